using System.Net;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Forwarding;
using Gateway.Pipeline;
using Gateway.Runtime;
using Gateway.Transports.Smtp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway explain</c>: runs the whole pipeline offline on one message, with the same code a live session runs,
/// and shows per filter and rule whether it matched, the evidence, the score change, the final verdict with the
/// exact reply a client would get, and the headers that would be added. Nothing is sent anywhere.
/// </summary>
public static class ExplainCommand
{
    /// <param name="DnsFile">Recorded DNS answers (<see cref="Dns.ZoneFile"/>); null: ask the configured DNS.</param>
    /// <param name="Dns">The DNS to use, already built (test-rules); overrides <paramref name="DnsFile"/>.</param>
    /// <param name="RecordDnsFile">Where to write the DNS answers the run used, as a fixture for <paramref name="DnsFile"/>.</param>
    public sealed record Options(string ConfigPath, string MessagePath, string ClientIp, string Helo, string From, IReadOnlyList<string> To, bool Json,
        string? DnsFile = null, Dns.IDnsResolver? Dns = null, string? RecordDnsFile = null);

    public static async Task<int> RunAsync(Options options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (CheckCommand.Load(options.ConfigPath, stderr, "; nothing explained") is not { } config)
            return 1;
        if (!IPAddress.TryParse(options.ClientIp, out _))
        {
            stderr.WriteLine($"--client-ip: '{options.ClientIp}' is not an IP address");
            return 2;
        }
        if (options.DnsFile is { } dnsFile && options.Dns is null)
        {
            var dnsErrors = new List<ConfigError>();
            var zone = Dns.ZoneFile.Load(dnsFile, dnsErrors);
            foreach (var error in dnsErrors)
                stderr.WriteLine(error);
            if (zone is null)
                return 2;
            options = options with { Dns = zone };
        }
        byte[] raw;
        try
        {
            raw = await File.ReadAllBytesAsync(options.MessagePath, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"cannot read {options.MessagePath}: {e.Message}");
            return 2;
        }

        var recording = options.RecordDnsFile is null ? null : new Dns.RecordingResolver(options.Dns ?? new Dns.DnsClientResolver(config.Dns));
        if (recording is not null)
            options = options with { Dns = recording };
        var report = await ExplainAsync(config, options, raw, cancellationToken).ConfigureAwait(false);
        if (recording is not null)
        {
            try
            {
                Dns.ZoneFile.Write(options.RecordDnsFile!, recording);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"cannot write {options.RecordDnsFile}: {e.Message}");
                return 2;
            }
        }

        if (options.Json)
            stdout.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        else
            report.Print(stdout);
        return 0;
    }

    /// <summary>
    /// Runs one message through the pipeline of <paramref name="config"/>, offline; used by explain and test-rules. The
    /// file is one more transport of the <see cref="SessionEngine"/>: the same commands a client would send, in order.
    /// </summary>
    public static async Task<Report> ExplainAsync(GatewayConfig config, Options options, byte[] raw, CancellationToken cancellationToken)
    {
        var snapshot = GatewaySnapshot.Build(config, NullLogger.Instance);
        var trace = new List<RuleTrace>();
        var client = IPAddress.Parse(options.ClientIp);
        var connection = new Connection("EXPLAIN", config, new IPEndPoint(client, 0), new IPEndPoint(IPAddress.Loopback, 25), snapshot.Pipeline)
        {
            RuleTrace = trace,
            Dns = options.Dns ?? new Dns.DnsClientResolver(config.Dns),
        };
        var handler = new WouldForward();
        var engine = new SessionEngine(connection, handler, NullLogger.Instance) { ReplyRefs = false }; // the reply as rule tests expect it, without a session's id
        var report = new Report(options, config.Rules.Set.Hash);
        await RunPhasesAsync(engine, handler, options, raw, report, cancellationToken).ConfigureAwait(false);
        var transaction = connection.Transaction ?? engine.LastTransaction;
        var evaluation = transaction?.Evaluation ?? Evaluation.Merge(connection.ConnectEvaluation, connection.HeloEvaluation);
        report.Trace = [.. evaluation.Trace.Select(t => new TraceLine(t.Phase.Name(), t.Filter, t.Verdict.Kind.ToString().ToLowerInvariant(),
            t.Verdict.Symbols.Sum(s => s.Score), [.. t.Verdict.Symbols.Select(s => s.ToString())]))];
        report.Rules = [.. trace.Select(r => new RuleLine(r.Phase.Name(), r.RuleId, r.Matched, r.Evidence, r.Mode, r.Action, r.Score))];
        report.Symbols = [.. evaluation.Symbols.Select(s => s.Name).Distinct()];
        report.Score = evaluation.Score;
        var authentication = transaction?.Authentication ?? connection.View.Authentication;
        report.Authentication = AuthenticationLines(connection, authentication);
        report.DnsQueries = authentication.Dns.Count;
        await engine.EndAsync().ConfigureAwait(false);
        return report;
    }

    /// <summary>Notes what the end of DATA would do with the message, instead of doing it.</summary>
    private sealed class WouldForward : IMessageHandler
    {
        public DataDecision? Decision { get; private set; }

        public string Headers { get; private set; } = "";

        public Task<MessageOutcome> HandleAsync(Connection connection, Transaction transaction, DataDecision decision, CancellationToken cancellationToken)
        {
            Decision = decision;
            Headers = ReceivedHeader.For(connection.View, transaction.Envelope, connection.Time.GetUtcNow()) + decision.AddedHeaders;
            return Task.FromResult(new MessageOutcome(new Reply(250, "2.0.0", "Ok"), "explained", decision.Quarantine ? decision.By : "upstream"));
        }
    }

    private static async Task RunPhasesAsync(SessionEngine engine, WouldForward handler, Options options, byte[] raw, Report report, CancellationToken cancellationToken)
    {
        var connection = engine.Connection;
        if (await engine.ConnectAsync(cancellationToken).ConfigureAwait(false) is { } refused)
        {
            report.Final(refused, "connect", connection.PendingRejection?.Source ?? "filter");
            return;
        }
        var helo = await engine.ExecuteAsync(new SmtpCommand(SmtpVerb.Ehlo, "EHLO", options.Helo), cancellationToken).ConfigureAwait(false);
        if (helo.Reply is { Code: >= 400 } heloRefusal)
        {
            report.Final(heloRefusal, "helo", connection.PendingRejection?.Source ?? (helo.Next == SessionNext.Close || heloRefusal.Code != 501 ? "filter" : "smtp"));
            return;
        }

        var from = options.From.Trim('<', '>');
        var utf8 = !System.Text.Ascii.IsValid(from) || options.To.Any(t => !System.Text.Ascii.IsValid(t));
        connection.LastRefusalBy = null;
        var mail = await engine.ExecuteAsync(new SmtpCommand(SmtpVerb.Mail, "MAIL", $"FROM:<{from}>{(utf8 ? " SMTPUTF8" : "")}"), cancellationToken).ConfigureAwait(false);
        if (mail.Reply is { Code: >= 400 } mailRefusal)
        {
            report.Final(mailRefusal, "mail_from", connection.LastRefusalBy ?? "smtp");
            return;
        }

        foreach (var to in options.To)
        {
            connection.LastRefusalBy = null;
            var rcpt = await engine.ExecuteAsync(new SmtpCommand(SmtpVerb.Rcpt, "RCPT", $"TO:<{to.Trim('<', '>')}>"), cancellationToken).ConfigureAwait(false);
            var reply = rcpt.Reply!;
            report.Recipients.Add(new RecipientLine(to, reply.IsPositive ? reply.ToString()
                : connection.LastRefusalBy is { } by ? $"{reply} (by {by})" : reply.ToString()));
        }
        if (connection.Transaction is { Route: { } route })
            report.Route = RouteLine(connection.Config.Upstream, route);
        if (connection.Transaction is not { Recipients.Count: > 0 })
        {
            // Every recipient refused: what the client is told is the refusal (a sender retries a 4xx).
            var first = report.Recipients.Select(r => Rules.RuleLoader.ParseReply(r.Reply.Split(" (by ")[0])).FirstOrDefault(r => r is not null);
            report.Final(first ?? new Reply(554, "5.5.1", "No valid recipients"), "rcpt_to", first is null ? "envelope" : connection.LastRefusalBy ?? "filter");
            return;
        }

        // DATA: the message as the DATA decoder would store it (the file's bare LFs become CRLF, as a client sends).
        await engine.ExecuteAsync(new SmtpCommand(SmtpVerb.Data, "DATA", ""), cancellationToken).ConfigureAwait(false);
        var spool = new MessageSpool();
        var decoder = new DataDecoder(BareLineEndings.Normalize, connection.Config.Limits.MaxMessageSize);
        decoder.Feed(StuffForData(raw), spool);
        var end = await engine.EndOfMessageAsync(spool, decoder.Oversize ? Reply.MessageTooBig : null, cancellationToken).ConfigureAwait(false);
        if (handler.Decision is not { } decision)
        {
            report.Final(end.Reply!, "data", engine.LastOutcome?.By ?? "smtp");
            return;
        }
        if (decision.Quarantine)
        {
            report.Verdict = "quarantine";
            report.Reply = connection.Config.Quarantine.Reply.ToString();
            report.DecidedBy = decision.By;
            report.StoppedAt = "data";
            return;
        }
        report.Headers = [.. handler.Headers
            .Replace("\r\n\t", " ", StringComparison.Ordinal).Split("\r\n", StringSplitOptions.RemoveEmptyEntries),
            .. decision.SubjectPrefix is { } prefix ? [$"(Subject rewritten: \"{prefix}\" in front)"] : Array.Empty<string>()];
        report.Verdict = "forward";
        report.Reply = "the upstream's reply (the message would be forwarded)";
        report.DecidedBy = "upstream";
    }

    /// <summary>Where the transaction's mail would go: the route's name and its hosts or directory.</summary>
    private static string RouteLine(UpstreamConfig upstream, string route)
    {
        var settings = upstream.Routes.Routes.FirstOrDefault(r => r.Name == route)?.Upstream ?? upstream;
        var target = settings.Directory is { } directory ? $"directory {directory}" : string.Join(", ", settings.Hosts);
        return $"{route} ({target})";
    }

    /// <summary>The file as a client would send it in DATA: CRLF lines, dots stuffed, ended with a dot line.</summary>
    private static byte[] StuffForData(byte[] raw)
    {
        var text = System.Text.Encoding.Latin1.GetString(raw).Replace("\r\n", "\n", StringComparison.Ordinal);
        if (!text.EndsWith('\n'))
            text += "\n";
        var lines = text[..^1].Split('\n').Select(l => l.StartsWith('.') ? "." + l : l);
        return System.Text.Encoding.Latin1.GetBytes(string.Join("\r\n", lines) + "\r\n.\r\n");
    }

    /// <summary>Every authentication step that ran, with the DNS answers it used.</summary>
    private static List<AuthLine> AuthenticationLines(Connection connection, Authentication.AuthenticationState auth)
    {
        var lines = new List<AuthLine>();
        if (connection.ReverseDns is { } rdns)
            lines.Add(new("rdns", rdns.Failed && rdns.Name is null ? "temperror" : rdns.Display, "", rdns.Trace));
        if (auth.Spf is { } spf)
            lines.Add(new("spf", Name(spf.Result), $"{spf.Identity} {spf.Sender}" + Detail(spf.Mechanism ?? spf.Problem), spf.Trace));
        if (auth.HeloSpf is { } helo)
            lines.Add(new("spf", Name(helo.Result), $"helo {helo.Domain}" + Detail(helo.Mechanism ?? helo.Problem), helo.Trace));
        if (auth.Dkim is { Count: 0 })
            lines.Add(new("dkim", "none", "no signature", []));
        foreach (var d in auth.Dkim ?? [])
            lines.Add(new("dkim", Name(d.Result), $"d={d.Domain} s={d.Selector} a={d.Algorithm}" + Detail(d.Reason), d.Trace));
        if (auth.Arc is { } arc)
            lines.Add(new("arc", Name(arc.Result), string.Join(" ", arc.Hops.Select(h => $"i={h.Instance}:{h.SealDomain}")) + Detail(arc.Reason), auth.ArcTrace));
        if (auth.Dmarc is { } dmarc)
            lines.Add(new("dmarc", Name(dmarc.Result), $"header.from={dmarc.Domain} policy={Name(dmarc.Policy)} disposition={Name(dmarc.Disposition)}" + Detail(dmarc.Reason), dmarc.Trace));
        return lines;

        static string Detail(string? text) => text is null ? "" : $" ({text})";
        static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
    }

    public sealed record AuthLine(string Method, string Result, string Detail, IReadOnlyList<string> Dns);

    public sealed record TraceLine(string Phase, string Filter, string Verdict, double ScoreChange, IReadOnlyList<string> Symbols);

    public sealed record RuleLine(string Phase, string Rule, bool Matched, string? Evidence, string Mode, string Action, double Score);

    public sealed record RecipientLine(string Address, string Reply);

    public sealed class Report(Options options, string rules)
    {
        public string Message { get; } = options.MessagePath;
        public string Client { get; } = options.ClientIp;
        public string Helo { get; } = options.Helo;
        public string From { get; } = options.From;
        public string RuleSet { get; } = rules;
        public List<RecipientLine> Recipients { get; } = [];
        public IReadOnlyList<TraceLine> Trace { get; set; } = [];
        public IReadOnlyList<RuleLine> Rules { get; set; } = [];
        public IReadOnlyList<string> Symbols { get; set; } = [];
        public double Score { get; set; }
        public string Verdict { get; set; } = "";
        public string DecidedBy { get; set; } = "";
        public string StoppedAt { get; set; } = "";
        public string Reply { get; set; } = "";
        public IReadOnlyList<string> Headers { get; set; } = [];
        public IReadOnlyList<AuthLine> Authentication { get; set; } = [];
        public int DnsQueries { get; set; }
        /// <summary>The upstream route of the accepted recipients ("default (10.0.0.25:25)").</summary>
        public string Route { get; set; } = "";

        public void Final(Core.Reply reply, string phase, string by)
        {
            Verdict = reply.IsPositive ? "discard" : reply.IsTransient ? "tempfail" : "reject";
            Reply = reply.ToString();
            StoppedAt = phase;
            DecidedBy = by;
        }

        public void Print(TextWriter o)
        {
            o.WriteLine($"message  {Message}");
            o.WriteLine($"client   {Client}  helo {Helo}  from <{From.Trim('<', '>')}>  rules {RuleSet}");
            foreach (var r in Recipients)
                o.WriteLine($"rcpt     <{r.Address.Trim('<', '>')}>: {r.Reply}");
            o.WriteLine();
            o.WriteLine("filters");
            if (Trace.Count == 0)
                o.WriteLine("  (none ran)");
            foreach (var t in Trace)
                o.WriteLine($"  {t.Phase,-9} {t.Filter,-24} {t.Verdict,-10} {(t.ScoreChange == 0 ? "" : t.ScoreChange.ToString("+0.##;-0.##", System.Globalization.CultureInfo.InvariantCulture)),6}  {string.Join(", ", t.Symbols)}");
            o.WriteLine();
            if (Authentication.Count > 0)
            {
                o.WriteLine($"authentication ({DnsQueries} DNS queries)");
                foreach (var a in Authentication)
                {
                    o.WriteLine($"  {a.Method,-6} {a.Result,-10} {a.Detail}");
                    foreach (var answer in a.Dns)
                        o.WriteLine($"           {answer}");
                }
                o.WriteLine();
            }
            o.WriteLine("rules");
            if (Rules.Count == 0)
                o.WriteLine("  (none evaluated)");
            foreach (var r in Rules)
                o.WriteLine($"  {r.Phase,-9} {r.Rule,-24} {(r.Matched ? "MATCH" : "no"),-5}  {(r.Matched ? $"{r.Action}{(r.Score != 0 ? $" {r.Score:+0.##;-0.##}" : "")}{(r.Mode == "monitor" ? " (monitor: no effect)" : "")}: {r.Evidence}" : "")}");
            o.WriteLine();
            o.WriteLine($"score    {Score:0.##}");
            o.WriteLine($"verdict  {Verdict}{(StoppedAt.Length > 0 ? $" at {StoppedAt}" : "")} (decided by {DecidedBy})");
            o.WriteLine($"reply    {Reply}");
            if (Route.Length > 0)
                o.WriteLine($"route    {Route}");
            if (Headers.Count > 0)
            {
                o.WriteLine("headers added");
                foreach (var h in Headers)
                    o.WriteLine($"  {h}");
            }
        }
    }
}
