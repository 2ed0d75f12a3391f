using Gateway.Tests.Support;

namespace Gateway.Tests.Cli;

public class ExplainTests
{
    private static (TempDirectory Dir, string Config, string Message) Setup(string message)
    {
        var dir = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(dir.Path, "rules"));
        dir.Write("rules/r.yaml", """
            rules:
              - id: lottery
                match: { subject: { regex: lottery } }
                score: 4
              - id: bulk
                match: { header: { name: Precedence, regex: "^bulk$" } }
                score: 2
              - id: blocked-net
                match: { client_ip: ["203.0.113.0/24"] }
                action: reject
            """);
        var config = dir.Write("gateway.yaml", "relay: { domains: [example.test] }\nupstream: { directory: out }\nrules: { files: [\"rules/*.yaml\"] }\npolicy:\n  thresholds: { add_header: 3, reject: 5 }\n");
        return (dir, config, dir.Write("m.eml", message));
    }

    [Fact]
    public void Shows_every_rule_the_score_and_the_headers_that_would_be_added()
    {
        var (dir, config, message) = Setup("From: a@sender.test\nSubject: lottery news\n\nbody\n");
        using (dir)
        {
            var (exit, output, errors) = CliRunner.Invoke("explain", message, "--config", config, "--from", "a@sender.test", "--to", "bob@example.test");
            Assert.True(exit == 0, errors);
            Assert.Contains("connect   blocked-net              no", output);
            Assert.Contains("data      lottery                  MATCH  none +4: subject 'lottery news' matches regex lottery", output);
            Assert.Contains("data      bulk                     no", output);
            Assert.Contains("score    4", output);
            Assert.Contains("verdict  forward (decided by upstream)", output);
            Assert.Contains("  X-Gateway-Score: 4", output);
            Assert.Contains("  X-Gateway-Symbols: lottery(4: subject 'lottery news' matches regex lottery)", output);
        }
    }

    [Fact]
    public void A_score_so_large_that_the_sum_overflows_is_a_configuration_error_not_a_crash_of_explain_json()
    {
        // Two rules of 1e308 each summed to +Infinity, which no JSON writer takes: explain --json died with a stack trace.
        var (dir, config, message) = Setup("From: a@sender.test\nSubject: lottery\n\nbody\n");
        using (dir)
        {
            dir.Write("rules/huge.yaml", "rules:\n  - id: huge-1\n    match: { subject: { regex: lottery } }\n    score: 1e308\n  - id: huge-2\n    match: { subject: lottery }\n    score: 1e308\n");
            var (exit, output, errors) = CliRunner.Invoke("explain", message, "--config", config, "--to", "bob@example.test", "--json");
            Assert.Equal(1, exit);
            Assert.Contains("huge.yaml:4:12: error: 'rules[0].score' must be a number from -1000000 to 1000000, not '1e308'", errors);
            Assert.DoesNotContain("   at ", output + errors);
        }
    }

    [Fact]
    public void Gives_the_exact_reply_and_who_decided_as_json()
    {
        var (dir, config, message) = Setup("From: a@sender.test\nSubject: lottery\nPrecedence: bulk\n\nbody\n");
        using (dir)
        {
            var (exit, output, errors) = CliRunner.Invoke("explain", message, "--config", config, "--from", "a@sender.test", "--to", "bob@example.test", "--json");
            Assert.True(exit == 0, errors);
            var report = System.Text.Json.JsonDocument.Parse(output).RootElement;
            Assert.Equal(6, report.GetProperty("score").GetDouble());
            Assert.Equal("reject", report.GetProperty("verdict").GetString());
            Assert.Equal("554 5.7.1 Message refused by policy (score 6 reaches 5)", report.GetProperty("reply").GetString());
            Assert.Equal("score", report.GetProperty("decided_by").GetString());
        }
    }

    [Fact]
    public void A_delayed_connect_rejection_shows_at_the_recipient()
    {
        var (dir, config, message) = Setup("From: a@sender.test\n\nbody\n");
        using (dir)
        {
            var (_, output, _) = CliRunner.Invoke("explain", message, "--config", config, "--client-ip", "203.0.113.5", "--from", "a@sender.test", "--to", "bob@example.test");
            Assert.Contains("rcpt     <bob@example.test>: 554 5.7.1 Rejected by policy (rule:blocked-net) (by rule:blocked-net)", output);
            Assert.Contains("reply    554 5.7.1 Rejected by policy (rule:blocked-net)", output);
            Assert.Contains("verdict  reject at rcpt_to (decided by rule:blocked-net)", output);
        }
    }

    [Fact]
    public void Reads_recorded_dns_answers_and_shows_each_authentication_step_with_them()
    {
        var (dir, config, message) = Setup("From: a@sender.test\nSubject: hi\n\nbody\n");
        using (dir)
        {
            File.AppendAllText(config, "pipeline:\n  mail_from: [{ type: spf }]\n  data: [{ type: dmarc }]\nquarantine: { directory: q }\n");
            var dns = dir.Write("dns.yaml", "sender.test:\n  - TXT: \"v=spf1 ip4:192.0.2.0/24 -all\"\n_dmarc.sender.test:\n  - TXT: [\"v=DMARC1; \", \"p=reject\"]\n");
            var (exit, output, errors) = CliRunner.Invoke("explain", message, "--config", config, "--dns", dns, "--client-ip", "198.51.100.7",
                "--helo", "[198.51.100.7]", "--from", "a@sender.test", "--to", "bob@example.test");
            Assert.True(exit == 0, errors);
            Assert.Contains("  spf    fail       mailfrom a@sender.test (-all)", output);
            Assert.Contains("           TXT sender.test -> v=spf1 ip4:192.0.2.0/24 -all", output);
            Assert.Contains("           TXT _dmarc.sender.test -> v=DMARC1; p=reject", output);
            Assert.Contains("reply    550 5.7.1 Rejected by the DMARC policy of sender.test (dmarc)", output);
        }
    }

    [Fact]
    public void A_broken_dns_fixture_is_refused_with_its_line()
    {
        var (dir, config, message) = Setup("From: a@sender.test\n\nbody\n");
        using (dir)
        {
            var dns = dir.Write("dns.yaml", "sender.test:\n  - TXT: ok\n  - SRV: nope\n");
            var (exit, _, errors) = CliRunner.Invoke("explain", message, "--config", config, "--dns", dns, "--to", "bob@example.test");
            Assert.Equal(2, exit);
            Assert.Contains("dns.yaml:3:5: error: unknown record type 'SRV'", errors);
        }
    }

    [Fact]
    public void Records_the_dns_answers_it_used_as_a_fixture_that_repeats_the_run()
    {
        var (dir, config, message) = Setup("From: a@sender.test\nSubject: hi\n\nbody\n");
        using (dir)
        {
            File.AppendAllText(config, "pipeline:\n  mail_from: [{ type: spf }]\n  data: [{ type: dmarc }]\nquarantine: { directory: q }\n");
            var live = dir.Write("live.yaml", """
                sender.test:
                  - TXT: "v=spf1 mx include:_spf.sender.test -all"
                  - MX: [10, mx.sender.test]
                mx.sender.test:
                  - A: 198.51.100.9
                _spf.sender.test:
                  - TXT: TIMEOUT
                _dmarc.sender.test:
                  - TXT: "v=DMARC1; p=quarantine; rua=mailto:\"d\"@sender.test"
                unused.sender.test:
                  - A: 192.0.2.99
                """);
            var recorded = Path.Combine(dir.Path, "recorded.yaml");
            string[] run = ["explain", message, "--config", config, "--client-ip", "198.51.100.7", "--helo", "[198.51.100.7]", "--from", "a@sender.test", "--to", "bob@example.test"];

            var (exit, first, errors) = CliRunner.Invoke([.. run, "--dns", live, "--record-dns", recorded]);
            Assert.True(exit == 0, errors);
            var fixture = File.ReadAllText(recorded);
            Assert.Contains("_spf.sender.test:", fixture);
            Assert.Contains("TXT: TIMEOUT", fixture);
            Assert.DoesNotContain("unused.sender.test", fixture);

            var (again, second, _) = CliRunner.Invoke([.. run, "--dns", recorded]);
            Assert.Equal(0, again);
            Assert.Equal(first.Replace(live, ""), second.Replace(recorded, ""));
            Assert.Contains("spf    temperror", second);
        }
    }

    [Fact]
    public void Shows_the_route_and_refuses_a_recipient_of_another_route_as_a_client_would_hear_it()
    {
        using var dir = new TempDirectory();
        var config = dir.Write("gateway.yaml", """
            relay: { domains: [a.test, b.test] }
            upstream:
              hosts: ["10.0.0.1:25"]
              routes:
                - { name: partners, domains: [b.test], hosts: ["10.0.0.2:25", "10.0.0.3:25"] }
            """);
        var message = dir.Write("m.eml", "From: a@sender.test\nSubject: hi\n\nbody\n");
        var (exit, output, errors) = CliRunner.Invoke("explain", message, "--config", config, "--from", "a@sender.test", "--to", "bob@b.test", "--to", "carol@a.test");
        Assert.True(exit == 0, errors);
        Assert.Contains("rcpt     <bob@b.test>: 250 2.1.5 Recipient OK", output);
        Assert.Contains("rcpt     <carol@a.test>: 452 4.5.3 Recipients of a.test must be sent in a separate transaction (by route)", output);
        Assert.Contains("route    partners (10.0.0.2:25, 10.0.0.3:25)", output);
        Assert.Contains("verdict  forward (decided by upstream)", output);
    }
}
