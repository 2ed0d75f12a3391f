using System.Runtime.CompilerServices;
using Gateway.Configuration;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;

namespace Gateway.Detection.Antivirus;

public enum AntivirusAction
{
    /// <summary>554 5.7.1 Virus found: NAME.</summary>
    Reject,

    /// <summary>Keep the message in the quarantine; the client gets 250.</summary>
    Quarantine,

    /// <summary>Only add the VIRUS symbol with its score; the thresholds and rules decide.</summary>
    Score,
}

/// <summary>
/// Antivirus through clamd: the message as received is streamed to clamd (zINSTREAM), which decodes MIME parts
/// (base64, quoted-printable) and unpacks archives itself. Found: the <c>VIRUS</c> symbol with the signature as its
/// detail, and the configured action. clamd unreachable, too slow or answering an error: <c>AV_FAIL</c> and
/// <c>on_error</c> (451 4.3.0 by default, so the sender retries; or continue unscanned). Each message is scanned
/// once, whoever asks.
/// </summary>
public sealed class AntivirusFilter : IFilter, ICheckable, Admin.IReadinessCheck
{
    private static readonly IReadOnlySet<Phase> DataOnly = new HashSet<Phase> { Phase.Data };

    private readonly string _name;
    private readonly ClamdClient _client;
    private readonly AntivirusAction _action;
    private readonly double _score;
    private readonly OnError _onError;
    private readonly long _maxSize;
    private readonly ClamdOutage _outage;
    private readonly ConditionalWeakTable<MessageSpool, Task<ScanResult>> _scans = [];

    public AntivirusFilter(string name, ClamdClient client, AntivirusAction action, double score, OnError onError, long maxSize)
    {
        _name = name;
        _client = client;
        _action = action;
        _score = score;
        _onError = onError;
        _maxSize = maxSize;
        _outage = new ClamdOutage(name, client.Address);
    }

    public IReadOnlySet<Phase> Phases => DataOnly;

    /// <summary>It only copies the spooled message to a socket and waits for clamd.</summary>
    public bool RunsInline => true;

    public bool MayQuarantine => _action == AntivirusAction.Quarantine;

    public ClamdClient Client => _client;

    public async ValueTask<Verdict> EvaluateAsync(FilterContext context, CancellationToken cancellationToken)
    {
        if (context.Message is not { } message)
            return Verdict.Continue(_name);
        if (message.Length > _maxSize)
            return Verdict.Continue(_name, new Symbol("AV_SKIPPED", 0, $"{message.Length} bytes, over max_size {_maxSize}"));
        var result = await ScanOnceAsync(message, cancellationToken).ConfigureAwait(false);
        var logger = context.Session.Pipeline.Logger;
        // clamd refusing the stream for its own StreamMaxLength would refuse this message at every retry: a 4xx it
        // meets forever. It goes on unscanned, as over max_size, and the log says how to align the two limits.
        if (result.Status == ScanStatus.Failed && result.Error?.Contains("size limit exceeded", StringComparison.OrdinalIgnoreCase) == true)
        {
            logger.LogWarning("filter {Filter}: clamd's StreamMaxLength is below this message ({Bytes} bytes); set the filter's max_size to it", _name, message.Length);
            return Verdict.Continue(_name, new Symbol("AV_SKIPPED", 0, $"{message.Length} bytes, over clamd's StreamMaxLength"));
        }
        if (result.Status == ScanStatus.Failed)
        {
            _outage.Down(logger, result.Error!, _onError.ToString().ToLowerInvariant());
            var failed = new Symbol("AV_FAIL", 0, result.Error);
            return _onError == OnError.Continue
                ? Verdict.Continue(_name, failed)
                : new Verdict(VerdictKind.Tempfail, _name, new Reply(451, "4.3.0", $"Virus scan unavailable, try again later ({_name})"), [failed]);
        }
        _outage.Up(logger);
        if (result.Status == ScanStatus.Clean)
            return Verdict.Continue(_name, new Symbol("AV_CLEAN", 0));
        var virus = new Symbol("VIRUS", _score, result.Signature);
        return _action switch
        {
            AntivirusAction.Reject => new Verdict(VerdictKind.Reject, _name, new Reply(554, "5.7.1", $"Virus found: {result.Signature} ({_name})"), [virus]),
            AntivirusAction.Quarantine => new Verdict(VerdictKind.Quarantine, _name, Symbols: [virus]),
            _ => Verdict.Continue(_name, virus),
        };
    }

    /// <summary>One scan per message: a second ask (another phase, a retry of the phase) gets the first's result.</summary>
    private Task<ScanResult> ScanOnceAsync(MessageSpool message, CancellationToken cancellationToken) =>
        _scans.GetValue(message, m => ScanAsync(m, cancellationToken));

    private async Task<ScanResult> ScanAsync(MessageSpool message, CancellationToken cancellationToken)
    {
        var content = message.OpenRead();
        await using (content.ConfigureAwait(false))
            return await _client.ScanAsync(content, cancellationToken).ConfigureAwait(false);
    }

    public async Task<string?> CheckAsync(CancellationToken cancellationToken) =>
        await _client.PingAsync(cancellationToken).ConfigureAwait(false) is { } error ? $"filter {_name}: {error}" : null;

    /// <summary>For <c>GET /health/ready</c>: clamd answers PING.</summary>
    public string ReadinessName => $"clamd {_client.Address}";

    public async ValueTask<string?> CheckReadinessAsync(CancellationToken cancellationToken) =>
        await _client.PingAsync(cancellationToken).ConfigureAwait(false);

    internal static IFilter? Create(string name, YamlMappingReader options, string baseDirectory)
    {
        var (text, node) = options.StringWithNode("clamd");
        ClamdAddress? address = null;
        if (text is null)
            options.Error(options.Node, "the antivirus filter needs 'clamd': \"unix:/run/clamav/clamd.ctl\" or \"127.0.0.1:3310\"");
        else if (!ClamdAddress.TryParse(text, baseDirectory, out address))
            options.Error(node, $"'clamd' must be \"unix:/path/to/clamd.ctl\" or \"host:port\", not '{text}'");
        var timeout = options.Duration("timeout", TimeSpan.FromSeconds(8));
        var budget = options.Duration("budget", TimeSpan.FromSeconds(10));
        if (timeout <= TimeSpan.Zero || timeout >= budget)
            options.Error(options.Get("timeout") ?? options.Node, $"'timeout' ({timeout.TotalSeconds:0.###}s) must be positive and shorter than the filter's 'budget' ({budget.TotalSeconds:0.###}s), so that a slow clamd gets on_error's answer");
        var action = options.Enum("action", AntivirusAction.Reject);
        var score = options.Number("score") ?? 10;
        var onError = options.Enum("on_error", OnError.Tempfail);
        var maxSize = options.Size("max_size", 25L * 1024 * 1024);
        return address is null ? null : new AntivirusFilter(name, new ClamdClient(address, timeout), action, score, onError, maxSize);
    }
}
