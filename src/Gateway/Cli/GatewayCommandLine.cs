using System.CommandLine;

namespace Gateway.Cli;

/// <summary>The <c>gateway</c> command line: run, check (and --help, --version from System.CommandLine).</summary>
public static class GatewayCommandLine
{
    /// <param name="input">What <c>passwd</c> reads the password from; null: standard input (or a prompt).</param>
    public static RootCommand Build(TextWriter? output = null, TextWriter? error = null, TextReader? input = null)
    {
        var stdout = output ?? Console.Out;
        var stderr = error ?? Console.Error;

        var runConfig = ConfigOption();
        var run = new Command("run", "Run the gateway: accept SMTP on server.listen and forward to the upstream") { runConfig };
        run.SetAction((parse, cancellationToken) => RunCommand.RunAsync(parse.GetValue(runConfig)!, stdout, stderr, cancellationToken));

        var checkConfig = ConfigOption();
        var check = new Command("check", "Validate the configuration: print every error with file, line and column; exit 1 on any") { checkConfig };
        check.SetAction(parse => CheckCommand.Run(parse.GetValue(checkConfig)!, stdout, stderr));

        var showConfig = ConfigOption();
        var configCommand = new Command("config", "Print the effective configuration, defaults included, one 'section.key = value' a line") { showConfig };
        configCommand.SetAction(parse => ConfigCommand.Run(parse.GetValue(showConfig)!, stdout, stderr));

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

        var quarantine = new Command("quarantine", "List, search, show, release or delete quarantined messages");
        foreach (var (name, help, idArity) in new[]
                 {
                     ("list", "List quarantined messages (oldest first), or those matching the options", 0),
                     ("show", "Show a message, its envelope and why it was held", 1),
                     ("release", "Forward a message to the upstream with its original envelope, then delete it", 1),
                     ("delete", "Delete a message", 1),
                     ("log", "Show who released or deleted what (of one message with ID)", 2),
                 })
        {
            var qConfig = ConfigOption();
            var id = new Argument<string?>("ID") { Description = "The message id (from list)", Arity = idArity == 2 ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne };
            var by = new Option<string>("--by") { Description = "Who does it, for the log (default: the user running the command)", DefaultValueFactory = _ => Environment.UserName };
            var qFrom = new Option<string?>("--from") { Description = "Envelope sender contains" };
            var qTo = new Option<string?>("--to") { Description = "A recipient contains" };
            var qSubject = new Option<string?>("--subject") { Description = "Subject contains" };
            var qReason = new Option<string?>("--reason") { Description = "The reason (filter, rule, symbols) contains" };
            var qJson = new Option<bool>("--json") { Description = "Print JSON" };
            var sub = new Command(name, help) { qConfig };
            if (idArity > 0)
                sub.Add(id);
            if (name is "release" or "delete")
                sub.Add(by);
            if (name == "list")
            {
                sub.Add(qFrom);
                sub.Add(qTo);
                sub.Add(qSubject);
                sub.Add(qReason);
            }
            if (name is "list" or "show")
                sub.Add(qJson);
            sub.SetAction((parse, cancellationToken) => QuarantineCommand.RunAsync(parse.GetValue(qConfig)!, new QuarantineCommand.Options(name,
                idArity > 0 ? parse.GetValue(id) : null,
                new Quarantine.QuarantineQuery { From = parse.GetValue(qFrom), To = parse.GetValue(qTo), Subject = parse.GetValue(qSubject), Reason = parse.GetValue(qReason) },
                parse.GetValue(by) ?? Environment.UserName, parse.GetValue(qJson)), stdout, stderr, cancellationToken));
            quarantine.Add(sub);
        }

        var trackConfig = ConfigOption();
        var trackId = new Option<string?>("--id") { Description = "A transaction id (or session id, quarantine id, Message-ID): show it whole, with its evidence" };
        var trackFrom = new Option<string?>("--from") { Description = "Envelope sender contains" };
        var trackTo = new Option<string?>("--to") { Description = "A recipient contains" };
        var trackSubject = new Option<string?>("--subject") { Description = "Subject contains" };
        var trackSince = new Option<string?>("--since") { Description = "From this time (2026-12-07T08:00Z) or this long ago (30m, 2h, 7d)" };
        var trackOutcome = new Option<string[]>("--outcome") { Description = "delivered, rejected, tempfailed, quarantined, discarded, abandoned (repeat or comma-separate)", AllowMultipleArgumentsPerToken = true };
        var trackLimit = new Option<int>("--limit") { Description = "At most this many, newest first", DefaultValueFactory = _ => 100 };
        var trackJson = new Option<bool>("--json") { Description = "Print JSON" };
        var track = new Command("track", "Find transactions in the tracking store")
        {
            trackConfig, trackId, trackFrom, trackTo, trackSubject, trackSince, trackOutcome, trackLimit, trackJson,
        };
        track.SetAction((parse, cancellationToken) => TrackCommand.RunAsync(parse.GetValue(trackConfig)!, new TrackCommand.Options(parse.GetValue(trackId),
            parse.GetValue(trackFrom), parse.GetValue(trackTo), parse.GetValue(trackSubject), parse.GetValue(trackSince), parse.GetValue(trackOutcome) ?? [],
            parse.GetValue(trackLimit), parse.GetValue(trackJson)), stdout, stderr, cancellationToken));

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

        var passwd = new Command("passwd", "Print a password hash for admin.users (reads the password from standard input, or asks for it)");
        passwd.SetAction(_ => PasswdCommand.Run(input, stdout, stderr));

        return new RootCommand("Gateway: an SMTP security filtering proxy for the edge of a mail system") { run, check, configCommand, explain, testRules, quarantine, track, learn, passwd };
    }

    private static Option<string> ConfigOption() => new("--config", "-c")
    {
        Description = "The configuration file",
        DefaultValueFactory = _ => "gateway.yaml",
    };
}
