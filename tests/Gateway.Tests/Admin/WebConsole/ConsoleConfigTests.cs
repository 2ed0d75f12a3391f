using Gateway.Admin.WebConsole;
using Gateway.Configuration;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Admin.WebConsole;

/// <summary>gateway passwd, the admin.users / admin.tls / admin.lockout configuration, and the lockout's counting.</summary>
public class ConsoleConfigTests
{
    private static (int Exit, string Out, string Err) Passwd(string stdin)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = Gateway.Cli.GatewayCommandLine.Build(stdout, stderr, new StringReader(stdin)).Parse(["passwd"]).Invoke(new System.CommandLine.InvocationConfiguration { Output = stdout, Error = stderr });
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Passwd_prints_a_pbkdf2_hash_of_the_password_read_from_standard_input_that_the_configuration_takes()
    {
        var (exit, output, _) = Passwd("correct horse battery staple\n");
        Assert.Equal(0, exit);
        var text = output.Trim();
        Assert.StartsWith("pbkdf2-sha256$600000$", text);
        var hash = PasswordHash.TryParse(text, out var error);
        Assert.Null(error);
        Assert.True(hash!.Verify("correct horse battery staple"));
        Assert.False(hash.Verify("correct horse battery stapl"));
        Assert.NotEqual(text, Passwd("correct horse battery staple\n").Out.Trim()); // salted

        var (empty, _, why) = Passwd("");
        Assert.Equal(1, empty);
        Assert.Contains("no password given", why);

        var config = Load($"admin:\n  users:\n    - {{ name: alice, password_hash: \"{text}\" }}\n");
        Assert.Equal("alice", Assert.Single(config.Config!.Admin!.Users).Name);
    }

    private static ConfigResult Load(string admin)
    {
        using var dir = new TempDirectory();
        return ConfigLoader.Load($"server:\n  hostname: mx.test.example\nrelay:\n  domains: [example.test]\nupstream:\n  directory: out\n{admin}", "gateway.yaml", dir.Path);
    }

    [Theory]
    [InlineData("    - { name: alice, password_hash: \"secret\" }\n", "'admin.users[0].password_hash' must be a hash made by 'gateway passwd'")]
    [InlineData("    - { name: alice, password_hash: \"pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\" }\n", "has 1000 iterations; at least 100,000 are needed")]
    [InlineData("    - { name: \"al ice\", password_hash: x }\n", "'admin.users[0].name' must be 1 to 64 letters")]
    [InlineData("    - { name: alice }\n", "'admin.users[0]' needs 'password_hash' (run 'gateway passwd')")]
    public void Users_without_a_usable_hash_or_name_are_errors(string users, string expected)
    {
        var result = Load("admin:\n  users:\n" + users);
        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.ToString().Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_tls_key_and_a_bad_lockout_are_errors()
    {
        var result = Load("admin:\n  tls: { certificate: nope.pem, key: nope.key }\n  lockout: { failures: 0 }\n");
        Assert.Contains(result.Errors, e => e.ToString().Contains("'admin.tls.certificate' file not found: nope.pem", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.ToString().Contains("failures", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_says_the_console_is_on_and_warns_of_plain_http_off_loopback()
    {
        using var dir = new TempDirectory();
        var hash = PasswordHash.Create("pw", PasswordHash.MinIterations);
        var path = dir.Write("gateway.yaml", $"server:\n  hostname: mx.test.example\nrelay:\n  domains: [example.test]\nupstream:\n  directory: out\nadmin:\n  listen: [\"0.0.0.0:8025\"]\n  users:\n    - {{ name: alice, password_hash: \"{hash}\" }}\n");
        var (exit, output, _) = CliRunner.Invoke("check", "--config", path);
        Assert.Equal(0, exit);
        Assert.Contains("admin: http://0.0.0.0:8025 (metrics, health); web console on for alice; warning: passwords cross the network in clear text (set admin.tls)", output);
        var (_, effective, _) = CliRunner.Invoke("config", "--config", path);
        Assert.Contains("admin.users = alice (web console on)", effective);
        Assert.Contains("admin.lockout = failures 5, duration 15m, delay 1s", effective);
        Assert.DoesNotContain("pbkdf2", effective);
    }

    /// <summary>
    /// gateway.yaml's commented <c>admin</c> section with its lines uncommented (and a real hash): a valid
    /// configuration whose session keys go to a directory next to the configuration (scripts/package moves it to
    /// /var/lib/gateway: see PackageTests).
    /// </summary>
    internal static string UncommentAdmin(string yaml, string hash)
    {
        var lines = yaml.Split('\n').ToList();
        var start = lines.IndexOf(lines.Single(l => l.StartsWith("# admin:", StringComparison.Ordinal)));
        for (var i = start; i < lines.Count && lines[i].StartsWith('#'); i++)
            lines[i] = lines[i][2..];
        return string.Join('\n', lines).Replace("pbkdf2-sha256$600000$...$...", hash, StringComparison.Ordinal);
    }

    [Fact]
    public void The_shipped_configuration_has_the_admin_section_commented_with_keys_next_to_it()
    {
        var path = Path.Combine(RepoRoot.Find(), "gateway.yaml");
        var shipped = File.ReadAllText(path);
        Assert.Null(ConfigLoader.Load(shipped, path, RepoRoot.Find()).Config!.Admin);
        var on = UncommentAdmin(shipped, PasswordHash.Create("pw", PasswordHash.MinIterations).ToString());
        var result = ConfigLoader.Load(on, path, RepoRoot.Find());
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.True(result.Config!.Admin!.ConsoleEnabled);
        Assert.Equal(Path.Combine(RepoRoot.Find(), "admin-keys"), result.Config.Admin.KeysDirectory);
    }

    [Fact]
    public void Failures_lock_a_configured_user_and_an_address_until_the_duration_has_passed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-07T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var throttle = new MemoryLoginCounts(new LockoutPolicy(3, TimeSpan.FromMinutes(15), TimeSpan.Zero), time);
        Assert.Null(throttle.Failed("alice", "192.0.2.1"));
        Assert.Null(throttle.Failed("alice", "192.0.2.2"));
        Assert.Null(throttle.Locked("alice", "192.0.2.3"));
        Assert.Equal("user", throttle.Failed("alice", "192.0.2.3")); // the third failure for alice, from three addresses
        Assert.Equal("user", throttle.Locked("alice", "198.51.100.9"));
        Assert.Null(throttle.Locked("bob", "198.51.100.9"));

        // Unknown names count against the address only.
        for (var i = 0; i < 2; i++)
            Assert.Null(throttle.Failed(null, "203.0.113.5"));
        Assert.Equal("address", throttle.Failed(null, "203.0.113.5"));
        Assert.Equal("address", throttle.Locked("bob", "203.0.113.5"));

        time.Advance(TimeSpan.FromMinutes(15));
        Assert.Null(throttle.Locked("alice", "198.51.100.9"));
        Assert.Null(throttle.Locked("bob", "203.0.113.5"));
        // Old failures have aged out: one more does not lock again.
        Assert.Null(throttle.Failed("alice", "192.0.2.1"));
    }

    [Fact]
    public void Only_paths_on_the_console_are_followed_after_login()
    {
        Assert.Equal("/messages?q=a", ConsoleEndpoints.LocalUrl("/messages?q=a"));
        foreach (var offsite in new[] { "//evil.test/", "/\\evil.test", "https://evil.test/", "", null, "/\n//evil.test" })
            Assert.Equal("/", ConsoleEndpoints.LocalUrl(offsite));
    }

    [Fact]
    public void Interpolated_values_are_encoded_and_invisible_characters_shown()
    {
        var value = "<b onclick=\"x\">&'\u202E";
        Assert.Equal("<td>&lt;b onclick=&quot;x&quot;&gt;&amp;&#x27;\\u{202e}</td>", Html.Of($"<td>{value}</td>").ToString());
        Assert.Equal("<td><i>ok</i></td>", Html.Of($"<td>{Html.Raw("<i>ok</i>")}</td>").ToString());
        Assert.Equal("a\nb", Html.Text("a\r\nb", keepLines: true).ToString());
    }
}
