using System.Diagnostics;
using Gateway.Tests.Support;

namespace Gateway.Tests.Packaging;

/// <summary>Builds the .deb once with scripts/package and unpacks it into a scratch directory.</summary>
public sealed class PackageFixture : IDisposable
{
    private readonly TempDirectory _dir = new();

    public PackageFixture()
    {
        var (exit, output) = Run(Path.Combine(RepoRoot.Find(), "scripts", "package"), Path.Combine(_dir.Path, "out"));
        Assert.True(exit == 0, "scripts/package failed:\n" + output);
        Deb = output.Trim().Split('\n')[^1];
        Root = Path.Combine(_dir.Path, "root");
        Assert.Equal(0, Run("dpkg-deb", "-x", Deb, Root).Exit);
        Contents = Run("dpkg-deb", "-c", Deb).Output;
        Control = Run("dpkg-deb", "-f", Deb).Output;
        Conffiles = Run("dpkg-deb", "-I", Deb, "conffiles").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public string Deb { get; }

    /// <summary>Where the package was unpacked: its /etc, /usr and /lib are below.</summary>
    public string Root { get; }

    public string Contents { get; }

    public string Control { get; }

    public IReadOnlyList<string> Conffiles { get; }

    public static (int Exit, string Output) Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
            process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public void Dispose() => _dir.Dispose();
}

public sealed class PackageTests(PackageFixture package) : IClassFixture<PackageFixture>
{
    [Fact]
    public void Holds_the_binary_the_configuration_the_rules_the_unit_and_the_man_page()
    {
        foreach (var path in new[]
        {
            "./usr/lib/gateway/gateway", "./usr/bin/gateway -> ../lib/gateway/gateway", "./etc/gateway/gateway.yaml",
            "./etc/gateway/rules/attachments.yaml", "./etc/gateway/rules/tests/attachments.yaml",
            "./lib/systemd/system/gateway.service", "./usr/share/man/man8/gateway.8.gz",
        })
            Assert.Contains(path, package.Contents);
        Assert.Contains("Package: gateway", package.Control);
        Assert.Contains("Architecture: amd64", package.Control);
        // Every file under /etc is a conffile, so that an upgrade never overwrites an admin's edits.
        var etc = Directory.GetFiles(Path.Combine(package.Root, "etc"), "*", SearchOption.AllDirectories)
            .Select(f => "/" + Path.GetRelativePath(package.Root, f)).Order();
        Assert.Equal(etc, package.Conffiles.Order());
    }

    [Fact]
    public void The_unpacked_binary_accepts_the_packaged_configuration_and_passes_the_packaged_rule_tests()
    {
        var binary = Path.Combine(package.Root, "usr", "lib", "gateway", "gateway");
        var config = Path.Combine(package.Root, "etc", "gateway", "gateway.yaml");

        var check = PackageFixture.Run(binary, "check", "--config", config);
        Assert.True(check.Exit == 0, check.Output);
        Assert.Contains("listen: 0.0.0.0:25", check.Output);
        Assert.Contains("upstream: directory /var/spool/gateway/delivered", check.Output);

        var rules = PackageFixture.Run(binary, "test-rules", "--config", config);
        Assert.True(rules.Exit == 0, rules.Output);
    }

    [Fact]
    public void The_packaged_configuration_writes_nowhere_under_etc()
    {
        var yaml = string.Join("\n", File.ReadAllLines(Path.Combine(package.Root, "etc", "gateway", "gateway.yaml")).Select(l => l.Split('#')[0]));
        Assert.DoesNotContain(": ./", yaml);
        Assert.Contains("type: bayes, path: /var/lib/gateway/bayes.db", yaml);
        Assert.Contains("directory: /var/lib/gateway/quarantine", yaml);
    }

    /// <summary>
    /// The commented admin section, once uncommented, keeps the console's session keys under /var/lib/gateway
    /// (writable by the service), and the package makes that directory the gateway user's own with mode 0700 (the
    /// gateway also makes it 0700 at start: ConsoleHttpTests).
    /// </summary>
    [Fact]
    public void The_commented_admin_section_keeps_its_keys_under_var_lib_gateway_in_a_directory_made_0700()
    {
        var binary = Path.Combine(package.Root, "usr", "lib", "gateway", "gateway");
        var packaged = Path.Combine(package.Root, "etc", "gateway", "gateway.yaml");
        var on = Path.Combine(package.Root, "etc", "gateway", "admin-on.yaml");
        File.WriteAllText(on, Admin.WebConsole.ConsoleConfigTests.UncommentAdmin(File.ReadAllText(packaged),
            Gateway.Admin.WebConsole.PasswordHash.Create("pw", Gateway.Admin.WebConsole.PasswordHash.MinIterations).ToString()));

        var check = PackageFixture.Run(binary, "check", "--config", on);
        Assert.True(check.Exit == 0, check.Output);
        var config = PackageFixture.Run(binary, "config", "--config", on);
        Assert.Contains("admin.keys = /var/lib/gateway/admin-keys", config.Output);

        var postinst = PackageFixture.Run("dpkg-deb", "-I", package.Deb, "postinst").Output;
        Assert.Contains("install -d -o gateway -g gateway -m 0700 /var/lib/gateway/admin-keys", postinst);
    }

    [Fact]
    public void The_unit_runs_unprivileged_on_port_25_reloads_with_sighup_and_may_write_only_its_directories()
    {
        var unit = Path.Combine(package.Root, "lib", "systemd", "system", "gateway.service");
        var lines = File.ReadAllLines(unit);
        foreach (var setting in new[]
        {
            "Type=notify", "User=gateway", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/gateway /var/spool/gateway", "StateDirectoryMode=0750", "ExecReload=/bin/kill -HUP $MAINPID",
            "ExecStart=/usr/bin/gateway run --config /etc/gateway/gateway.yaml",
        })
            Assert.Contains(setting, lines);

        // systemd-analyze verify needs a running systemd (its targets, the binary installed): only where there is one.
        if (Directory.Exists("/run/systemd/system") && File.Exists("/usr/bin/systemd-analyze") && File.Exists("/usr/bin/gateway"))
        {
            var verify = PackageFixture.Run("systemd-analyze", "verify", "--man=no", unit);
            Assert.True(verify.Exit == 0, verify.Output);
        }
    }
}
