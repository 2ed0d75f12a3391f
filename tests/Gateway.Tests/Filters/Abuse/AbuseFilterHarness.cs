using System.Net;
using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.State;
using Gateway.Tests.Support;

namespace Gateway.Tests.Filters.Abuse;

/// <summary>Builds rate_limit and greylist filters from YAML and runs them on sessions sharing one store.</summary>
internal sealed class AbuseFilterHarness(string pipelineYaml, IStateStore? store, TempDirectory directory, string stateYaml = "")
{
    public GatewayConfig Config { get; } = OfflineRun.Config(pipelineYaml + "\n" + stateYaml, directory);

    public IFilter Filter(Phase phase) => Config.Pipeline.Phases[phase][0].Filter;

    public SessionState Session(string client = "192.0.2.10", string? from = "alice@sender.test", Gateway.Dns.IDnsResolver? dns = null, params Symbol[] connectSymbols)
    {
        var session = new SessionState("T", Config, new IPEndPoint(IPAddress.Parse(client), 4000), new IPEndPoint(IPAddress.Loopback, 25))
        {
            State = store,
            Dns = dns ?? Gateway.Dns.NoDns.Instance,
        };
        session.Helo = "mail.sender.test";
        if (connectSymbols.Length > 0)
            session.ConnectEvaluation.Add(new TraceEntry(Phase.Connect, "dnswl", Verdict.Continue("dnswl", connectSymbols), TimeSpan.Zero));
        if (from is not null)
            session.BeginTransaction(Path(from), new Dictionary<string, string?>());
        return session;
    }

    public static SmtpPath Path(string address)
    {
        Assert.Null(SmtpPath.TryParse($"<{address}>", allowNull: true, allowBarePostmaster: true, out var path, out _));
        return path;
    }

    public ValueTask<Verdict> RunAsync(Phase phase, SessionState session, string? recipient = null) =>
        Filter(phase).EvaluateAsync(new FilterContext(phase, session) { Recipient = recipient is null ? null : Path(recipient) }, CancellationToken.None);
}

/// <summary>A backend that is down.</summary>
internal sealed class UnavailableStore : IStateStore
{
    public string Description => "redis 127.0.0.1:1";

    public ValueTask<LimitDecision> HitAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken) =>
        throw new StateUnavailableException("redis 127.0.0.1:1: no connection");

    public ValueTask<GreylistDecision> GreylistAsync(string key, GreylistTimes times, CancellationToken cancellationToken) =>
        throw new StateUnavailableException("redis 127.0.0.1:1: no connection");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
