namespace Gateway.Transports.Milter;

/// <summary>What the configured pipeline needs to see of each SMTP step, so the MTA can skip the rest.</summary>
/// <param name="ConnectFilters">Filters run at connect (they may refuse, so the MTA must wait for our answer).</param>
/// <param name="NeedsMessage">Some filter reads the message, or the gateway adds headers (Authentication-Results).</param>
public sealed record MilterNeeds(bool ConnectFilters, bool HeloFilters, bool MailFilters, bool RcptFilters, bool NeedsMessage);

/// <summary>
/// Option negotiation (SMFIC_OPTNEG): we speak version 6; we ask only for the actions we use (add, insert and
/// change headers, quarantine) and tell the MTA which steps it may skip or need not wait for. The envelope steps
/// are always sent (the transaction record and the data filters need the client, HELO, sender and recipients), but
/// without a reply when no filter can refuse there; headers and body are skipped when nothing reads the message.
/// Everything asked for is limited to what the MTA offered.
/// </summary>
public static class MilterNegotiation
{
    public const uint Version = 6;

    /// <summary>
    /// Add, insert and change headers, quarantine, and our own macro lists (SMFIF_SETSYMLIST: Sendmail refuses a
    /// macro list from a milter that did not ask for it; Postfix takes it either way).
    /// </summary>
    public const MilterActions Wanted = MilterActions.AddHeaders | MilterActions.ChangeHeaders | MilterActions.Quarantine | MilterActions.SetMacroList;

    /// <summary>
    /// The version we answer with: ours, or the MTA's when it is older (Postfix ends the session when the milter's
    /// version is above its own, as with <c>milter_protocol = 2</c>).
    /// </summary>
    public static uint VersionFor(OptionNegotiationRequest offer) => Math.Min(Version, offer.Version);

    /// <summary>The macros we read, per stage (Postfix sends only what is asked for).</summary>
    public static readonly IReadOnlyDictionary<MacroStage, string> Macros = new Dictionary<MacroStage, string>
    {
        [MacroStage.Connect] = "j {daemon_name} {client_addr} {client_port} {client_name} {client_ptr}",
        [MacroStage.Helo] = "{tls_version} {cipher} {cipher_bits} {cert_subject}",
        [MacroStage.Mail] = "i {auth_type} {auth_authen} {mail_addr}",
        [MacroStage.Rcpt] = "{rcpt_addr}",
        [MacroStage.EndOfMessage] = "i",
    };

    public static (MilterActions Actions, MilterSteps Steps) Negotiate(OptionNegotiationRequest offer, MilterNeeds needs)
    {
        if (offer.Version < 2)
            throw new MilterProtocolException($"the MTA speaks milter protocol version {offer.Version}; version 2 or later is needed");
        var steps = MilterSteps.NoUnknown | MilterSteps.NoData | MilterSteps.NoEndOfHeaders | MilterSteps.NoReplyHeader | MilterSteps.NoReplyBody;
        if (!needs.ConnectFilters)
            steps |= MilterSteps.NoReplyConnect;
        if (!needs.HeloFilters)
            steps |= MilterSteps.NoReplyHelo;
        if (!needs.MailFilters)
            steps |= MilterSteps.NoReplyMail;
        if (!needs.RcptFilters)
            steps |= MilterSteps.NoReplyRcpt;
        // Header values with their own leading whitespace, so the message is rebuilt byte for byte (a DKIM signature
        // with simple header canonicalization depends on it); our own header values then carry their leading space.
        steps |= needs.NeedsMessage ? MilterSteps.HeaderLeadingSpace : MilterSteps.NoHeaders | MilterSteps.NoBody;
        // Larger body chunks mean fewer packets; asked for only where offered.
        steps |= MilterSteps.MaxDataSize1M;
        return (Wanted & offer.Actions, steps & offer.Steps);
    }

    /// <summary>What the configured pipeline needs to see and answer (<see cref="MilterNeeds"/>).</summary>
    /// <remarks>
    /// The MTA waits for our answer at connect and HELO only when a filter runs there; at MAIL when a filter runs
    /// there or the engine may refuse the size; at RCPT always (limits.max_recipients, and a connect or HELO refusal
    /// that waits for RCPT under pipeline.delay_reject). The message is read whenever anything runs at all: the data
    /// filters, and the headers the gateway adds (Authentication-Results, score, subject) and removes (forged ones)
    /// need it, and so does a quarantine in the gateway's store.
    /// </remarks>
    public static MilterNeeds NeedsOf(Pipeline.FilterPipeline pipeline, Configuration.GatewayConfig config)
    {
        var any = Enum.GetValues<Pipeline.Phase>().Any(pipeline.Has);
        var thresholds = config.Policy.Thresholds;
        var needsMessage = any || thresholds.AddHeader is not null || thresholds.RewriteSubject is not null || thresholds.Reject is not null || thresholds.Quarantine is not null;
        return new MilterNeeds(
            pipeline.Has(Pipeline.Phase.Connect),
            pipeline.Has(Pipeline.Phase.Helo),
            MailFilters: true,
            RcptFilters: true,
            needsMessage);
    }

    /// <summary>The largest packet we accept once <paramref name="steps"/> is agreed (1 MB chunks plus framing when negotiated).</summary>
    public static int MaxPacket(MilterSteps steps) =>
        steps.HasFlag(MilterSteps.MaxDataSize1M) ? (1 << 20) + 1
        : steps.HasFlag(MilterSteps.MaxDataSize256K) ? (1 << 18) + 1
        : MilterFrame.DefaultMaxPacket;
}
