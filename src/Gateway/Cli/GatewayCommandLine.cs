using System.CommandLine;

namespace Gateway.Cli;

/// <summary>The <c>gateway</c> command line: run, check (and --help, --version from System.CommandLine).</summary>
public static class GatewayCommandLine
{
    public static RootCommand Build(TextWriter? output = null, TextWriter? error = null)
    {
        var stdout = output ?? Console.Out;
        var stderr = error ?? Console.Error;

        var runConfig = ConfigOption();
        var run = new Command("run", "Run the gateway: accept SMTP on server.listen and forward to the upstream") { runConfig };
        run.SetAction((parse, cancellationToken) => RunCommand.RunAsync(parse.GetValue(runConfig)!, stdout, stderr, cancellationToken));

        var checkConfig = ConfigOption();
        var check = new Command("check", "Validate the configuration: print every error with file, line and column; exit 1 on any") { checkConfig };
        check.SetAction(parse => CheckCommand.Run(parse.GetValue(checkConfig)!, stdout, stderr));

        var explainConfig = ConfigOption();
        var message = new Argument<string>("MESSAGE") { Description = "The message file (.eml)" };
        var clientIp = new Option<string>("--client-ip") { Description = "The client's address", DefaultValueFactory = _ => "192.0.2.1" };
        var helo = new Option<string>("--helo") { Description = "The client's HELO name", DefaultValueFactory = _ => "client.example" };
        var from = new Option<string>("--from") { Description = "The envelope sender (MAIL FROM); empty for <>", DefaultValueFactory = _ => "" };
        var to = new Option<string[]>("--to") { Description = "An envelope recipient (RCPT TO); repeat for several", Required = true, AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var dns = new Option<string?>("--dns") { Description = "Answer DNS queries from this fixture file (recorded answers) instead of asking DNS" };
        var recordDns = new Option<string?>("--record-dns") { Description = "Write the DNS answers this run used to this file, as a fixture for --dns and rule tests" };
        var explain = new Command("explain", "Run the whole pipeline offline on one message and show why it gets its verdict")
        {
            explainConfig, message, clientIp, helo, from, to, json, dns, recordDns,
        };
        explain.SetAction((parse, cancellationToken) => ExplainCommand.RunAsync(new ExplainCommand.Options(
            parse.GetValue(explainConfig)!, parse.GetValue(message)!, parse.GetValue(clientIp)!, parse.GetValue(helo)!,
            parse.GetValue(from)!, parse.GetValue(to)!, parse.GetValue(json), parse.GetValue(dns), RecordDnsFile: parse.GetValue(recordDns)), stdout, stderr, cancellationToken));

        var testConfig = ConfigOption();
        var testFiles = new Argument<string[]>("FILES") { Description = "Test files (default: rules/tests/*.yaml beside the configuration)", Arity = ArgumentArity.ZeroOrMore };
        var testRules = new Command("test-rules", "Run the rule test cases and report failures and the rules no case exercises") { testConfig, testFiles };
        testRules.SetAction((parse, cancellationToken) => TestRulesCommand.RunAsync(parse.GetValue(testConfig)!, parse.GetValue(testFiles), stdout, stderr, cancellationToken));

        var quarantine = new Command("quarantine", "List, show, release or delete quarantined messages");
        foreach (var (name, help, needsId) in new[] { ("list", "List quarantined messages", false), ("show", "Show a message and why it was held", true), ("release", "Forward a message to the upstream with its original envelope", true), ("delete", "Delete a message", true) })
        {
            var qConfig = ConfigOption();
            var id = new Argument<string>("ID") { Description = "The message id (from list)" };
            var sub = new Command(name, help) { qConfig };
            if (needsId)
                sub.Add(id);
            sub.SetAction((parse, cancellationToken) => QuarantineCommand.RunAsync(parse.GetValue(qConfig)!, name, needsId ? parse.GetValue(id) : null, stdout, stderr, cancellationToken));
            quarantine.Add(sub);
        }

        var learnConfig = ConfigOption();
        var learnSpam = new Option<string[]>("--spam") { Description = "Spam to learn: message files, directories of them (recursive) or mbox files", AllowMultipleArgumentsPerToken = true };
        var learnHam = new Option<string[]>("--ham") { Description = "Ham (good mail) to learn, likewise", AllowMultipleArgumentsPerToken = true };
        var learnForget = new Option<bool>("--forget") { Description = "Unlearn the given messages instead" };
        var learn = new Command("learn", "Teach the bayes filter from spam and ham messages (learning one again counts once; as the other class, moves it)")
        {
            learnConfig, learnSpam, learnHam, learnForget,
        };
        learn.SetAction((parse, cancellationToken) => LearnCommand.RunAsync(parse.GetValue(learnConfig)!, parse.GetValue(learnSpam) ?? [],
            parse.GetValue(learnHam) ?? [], parse.GetValue(learnForget), stdout, stderr, cancellationToken));

        return new RootCommand("Gateway: an SMTP security filtering proxy for the edge of a mail system") { run, check, explain, testRules, quarantine, learn };
    }

    private static Option<string> ConfigOption() => new("--config", "-c")
    {
        Description = "The configuration file",
        DefaultValueFactory = _ => "gateway.yaml",
    };
}
