using System.Net;
using Gateway.Authentication.Arc;
using Gateway.Authentication.Dkim;
using Gateway.Authentication.Dmarc;
using Gateway.Authentication.Spf;
using Gateway.Configuration;
using Gateway.Dns;
using MimeKit;

namespace Gateway.Authentication;

/// <summary>
/// SPF, DKIM, ARC and DMARC for one transaction. Each check runs at most once, when a filter, a rule or the
/// Authentication-Results header first asks for it, and its result is shared by all of them. DMARC starts SPF, DKIM
/// and its own record lookup side by side. Every DNS query goes through one <see cref="CountingResolver"/>, so the
/// transaction log can say how many the message cost.
/// </summary>
public sealed class AuthenticationState(SessionState session)
{
    private readonly object _gate = new();
    private Task<SpfOutcome>? _spf;
    private Task<SpfOutcome?>? _helo;
    private Task<IReadOnlyList<DkimSignatureResult>>? _dkim;
    private Task<ArcOutcome>? _arc;
    private Task<DmarcOutcome>? _dmarc;

    public CountingResolver Dns { get; } = new(session.Dns);

    private AuthenticationConfig Config => session.Config.Authentication;

    /// <summary>SPF for the MAIL FROM identity (postmaster@HELO for the null sender).</summary>
    public Task<SpfOutcome> SpfAsync(CancellationToken cancellationToken) => Once(ref _spf, () =>
        new SpfChecker(Dns, SpfOptions()).CheckAsync(session.Remote.Address, session.Sender?.Address ?? "", session.Helo, cancellationToken));

    /// <summary>SPF for the HELO identity; null when the client gave no HELO name that is a domain.</summary>
    public Task<SpfOutcome?> HeloSpfAsync(CancellationToken cancellationToken) => Once(ref _helo, async () =>
        session.Helo is { } helo && helo.Contains('.') && !helo.StartsWith('[')
            ? await new SpfChecker(Dns, SpfOptions()).CheckHeloAsync(session.Remote.Address, helo, cancellationToken).ConfigureAwait(false)
            : null);

    public Task<IReadOnlyList<DkimSignatureResult>> DkimAsync(CancellationToken cancellationToken) => Once(ref _dkim, async () =>
    {
        // The signatures are checked one by one (the message's streams are not for sharing); their key lookups
        // start together here, and the checker then finds the answers in the DNS cache.
        var message = Message();
        await Task.WhenAll(DkimChecker.KeyNames(message, Config.DkimMaxSignatures)
            .Select(name => session.Dns.TxtAsync(name, cancellationToken).AsTask())).ConfigureAwait(false);
        await _reading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await new DkimChecker(Dns, new DkimOptions { MaxSignatures = Config.DkimMaxSignatures }).VerifyAsync(message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _reading.Release();
        }
    });

    public Task<ArcOutcome> ArcAsync(CancellationToken cancellationToken) => Once(ref _arc, async () =>
    {
        await _reading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await new ArcChecker(ArcKeys, new ArcOptions()).VerifyAsync(Message(), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _reading.Release();
        }
    });

    /// <summary>
    /// DKIM and ARC hash the body of the one parse, whose parts read the spool through one stream: they take turns
    /// (rules asking for both start them side by side).
    /// </summary>
    private readonly SemaphoreSlim _reading = new(1, 1);

    private DkimKeyLocator ArcKeys => field ??= new DkimKeyLocator(Dns);

    /// <summary>The key lookups ARC made, with their answers.</summary>
    public IReadOnlyList<string> ArcTrace => ArcKeys.Trace;

    public Task<DmarcOutcome> DmarcAsync(CancellationToken cancellationToken) => Once(ref _dmarc, async () =>
    {
        var author = Author = AuthorDomains.Extract(Message().Headers);
        // The policy record lookups start with SPF and DKIM; the evaluator then finds them in the DNS cache.
        var prefetch = author.Domains.Select(d => session.Dns.TxtAsync("_dmarc." + d, cancellationToken).AsTask()).ToList();
        var spf = SpfAsync(cancellationToken);
        var dkim = DkimAsync(cancellationToken);
        await Task.WhenAll([spf, dkim, .. prefetch]).ConfigureAwait(false);
        var input = new DmarcInput(author,
            new SpfInput(SpfIdentityDomain(spf.Result), Verdict(spf.Result.Result)),
            [.. dkim.Result.Where(d => d.Domain is not null).Select(d => new DkimInput(d.Domain!, Verdict(d.Result)))]);
        return await new DmarcEvaluator(Dns, Config.PublicSuffixList, static () => Random.Shared.Next(100)).EvaluateAsync(input, cancellationToken).ConfigureAwait(false);
    });

    /// <summary>
    /// The domain of the SPF identity DMARC aligns: the MAIL FROM domain, or for the null reverse-path (bounces,
    /// DSNs) the HELO name that SPF checked as postmaster@HELO (RFC 7489 4.1 with RFC 7208 2.4).
    /// </summary>
    private string? SpfIdentityDomain(SpfOutcome spf) =>
        session.Sender is { IsNull: false } sender ? sender.Domain
        : spf.Result == SpfResult.None && spf.Domain.Length == 0 ? null
        : spf.Domain.TrimEnd('.');

    private static AuthVerdict Verdict(SpfResult result) => result switch
    {
        SpfResult.Pass => AuthVerdict.Pass,
        SpfResult.Fail => AuthVerdict.Fail,
        SpfResult.TempError => AuthVerdict.TempError,
        _ => AuthVerdict.Other,
    };

    private static AuthVerdict Verdict(DkimResult result) => result switch
    {
        DkimResult.Pass => AuthVerdict.Pass,
        DkimResult.Fail => AuthVerdict.Fail,
        DkimResult.TempError => AuthVerdict.TempError,
        _ => AuthVerdict.Other,
    };

    private SpfOptions SpfOptions() => new() { ReceivingHost = session.Config.Server.Hostname };

    /// <summary>The message as DKIM and ARC read it: the transaction's one parse (raw header values kept).</summary>
    private MimeMessage Message() => session.ParsedMessage();

    private Task<T> Once<T>(ref Task<T>? slot, Func<Task<T>> start)
    {
        lock (_gate)
            return slot ??= Task.Run(start);
    }

    /// <summary>The checks that have finished, for the Authentication-Results header, explain and the log.</summary>
    public SpfOutcome? Spf => Done(_spf);

    public SpfOutcome? HeloSpf => Done(_helo);

    public IReadOnlyList<DkimSignatureResult>? Dkim => Done(_dkim);

    public ArcOutcome? Arc => Done(_arc);

    public DmarcOutcome? Dmarc => Done(_dmarc);

    /// <summary>The From header's domains as DMARC read them (set once DMARC has started).</summary>
    public AuthorDomainResult? Author { get; private set; }

    public bool AnyRan => _spf is not null || _helo is not null || _dkim is not null || _arc is not null || _dmarc is not null;

    private static T? Done<T>(Task<T>? task) => task is { IsCompletedSuccessfully: true } ? task.Result : default;

    internal IPAddress Client => session.Remote.Address;
}
