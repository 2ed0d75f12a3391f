using Gateway.Dns;
using Gateway.Pipeline;
using Gateway.State;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Filters.Abuse;

public sealed class GreylistFilterTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _dir.Dispose();

    private AbuseFilterHarness Harness(string options = "", IStateStore? store = null) =>
        new($"pipeline:\n  rcpt_to: [{{ type: greylist, delay: 5m{options} }}]", store ?? new MemoryStateStore(_time), _dir);

    [Fact]
    public async Task A_new_triplet_is_deferred_and_a_retry_after_the_delay_from_the_same_network_passes()
    {
        var h = Harness();

        var first = await h.RunAsync(Phase.RcptTo, h.Session(), "bob@example.test");
        Assert.Equal(VerdictKind.Tempfail, first.Kind);
        Assert.Equal("451 4.7.1 Greylisted, try again in 300 seconds (greylist)", first.ReplyOrDefault().ToString());
        Assert.Equal("GREYLIST", Assert.Single(first.Symbols).Name);
        Assert.Equal("192.0.2.0/24 <alice@sender.test> <bob@example.test>: first attempt", first.Symbols[0].Detail);

        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal("451 4.7.1 Greylisted, try again in 60 seconds (greylist)", (await h.RunAsync(Phase.RcptTo, h.Session(), "bob@example.test")).ReplyOrDefault().ToString());
        Assert.Equal(VerdictKind.Tempfail, (await h.RunAsync(Phase.RcptTo, h.Session(), "carol@example.test")).Kind);

        _time.Advance(TimeSpan.FromMinutes(1));
        var retry = await h.RunAsync(Phase.RcptTo, h.Session(client: "192.0.2.99"), "bob@example.test");
        Assert.Equal(VerdictKind.Continue, retry.Kind);
        Assert.Equal("GREYLIST_PASS", Assert.Single(retry.Symbols).Name);
        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.RcptTo, h.Session(), "bob@example.test")).Kind);
    }

    [Fact]
    public async Task Clients_a_dnswl_filter_listed_are_not_greylisted()
    {
        var h = Harness();

        var verdict = await h.RunAsync(Phase.RcptTo, h.Session(connectSymbols: new Symbol("DNSWL_MED", -1, "list.dnswl.test")), "bob@example.test");

        Assert.Equal(VerdictKind.Continue, verdict.Kind);
        Assert.Equal("client listed (DNSWL_MED)", Assert.Single(verdict.Symbols).Detail);
    }

    [Fact]
    public async Task A_sender_whose_spf_passes_is_not_greylisted_unless_told_otherwise()
    {
        var dns = new ZoneResolver().Add("sender.test", RecordType.TXT, "v=spf1 ip4:192.0.2.0/24 -all");
        var h = Harness();
        var verdict = await h.RunAsync(Phase.RcptTo, h.Session(dns: dns), "bob@example.test");
        Assert.Equal(VerdictKind.Continue, verdict.Kind);
        Assert.Equal("SPF pass for sender.test", Assert.Single(verdict.Symbols).Detail);

        Assert.Equal(VerdictKind.Tempfail, (await h.RunAsync(Phase.RcptTo, h.Session(client: "203.0.113.5", dns: dns), "bob@example.test")).Kind);
        var strict = Harness(", skip_spf_pass: false");
        Assert.Equal(VerdictKind.Tempfail, (await strict.RunAsync(Phase.RcptTo, strict.Session(dns: dns), "bob@example.test")).Kind);
    }

    [Fact]
    public async Task A_dns_failure_during_spf_greylists_rather_than_refuses()
    {
        var h = Harness();

        var verdict = await h.RunAsync(Phase.RcptTo, h.Session(dns: new ZoneResolver().Fail("sender.test", "timeout")), "bob@example.test");

        Assert.Equal(VerdictKind.Tempfail, verdict.Kind);
        Assert.StartsWith("451 4.7.1", verdict.ReplyOrDefault().ToString());
    }

    [Fact]
    public async Task Allow_listed_domains_and_networks_skip_greylisting()
    {
        var h = Harness(", allow: { networks: [203.0.113.0/24], domains: [sender.test] }");

        Assert.Equal("GREYLIST_SKIPPED", Assert.Single((await h.RunAsync(Phase.RcptTo, h.Session(), "bob@example.test")).Symbols).Name);
        Assert.Equal(VerdictKind.Continue, (await h.RunAsync(Phase.RcptTo, h.Session(client: "203.0.113.5", from: "x@else.test"), "bob@example.test")).Kind);
        Assert.Equal(VerdictKind.Tempfail, (await h.RunAsync(Phase.RcptTo, h.Session(from: "x@else.test"), "bob@example.test")).Kind);
    }

    [Fact]
    public async Task A_backend_error_lets_mail_through_by_default()
    {
        var h = Harness(store: new UnavailableStore());

        var verdict = await h.RunAsync(Phase.RcptTo, h.Session(), "bob@example.test");

        Assert.Equal(VerdictKind.Continue, verdict.Kind);
        Assert.Equal("STATE_UNAVAILABLE", Assert.Single(verdict.Symbols).Name);
    }

    [Fact]
    public void Greylisting_runs_only_at_rcpt_to_or_the_end_of_data()
    {
        var result = Gateway.Configuration.ConfigLoader.Load("pipeline:\n  mail_from: [{ type: greylist }]\nrelay: { domains: [example.test] }\nupstream: { directory: out }\n", "gateway.yaml", _dir.Path);

        Assert.Contains(result.Errors, e => e.ToString().Contains("cannot run at mail_from; it runs at rcpt_to, data", StringComparison.Ordinal));
    }

    private AbuseFilterHarness DataHarness() =>
        new("pipeline:\n  data: [{ type: greylist, delay: 5m }]", new MemoryStateStore(_time), _dir);

    private static void Deliver(Gateway.Session.SessionState session, string message, params string[] recipients)
    {
        foreach (var recipient in recipients)
            session.Recipients.Add(AbuseFilterHarness.Path(recipient));
        var spool = new Gateway.Core.MessageSpool();
        spool.Write(System.Text.Encoding.ASCII.GetBytes(message));
        session.Message = spool;
    }

    [Fact]
    public async Task At_the_end_of_data_the_message_waits_while_any_of_its_triplets_does()
    {
        var h = DataHarness();
        var first = h.Session();
        Deliver(first, "From: alice@sender.test\r\n\r\nhi\r\n", "bob@example.test");
        Assert.Equal(VerdictKind.Tempfail, (await h.RunAsync(Phase.Data, first)).Kind);
        _time.Advance(TimeSpan.FromMinutes(6));

        var both = h.Session();
        Deliver(both, "From: alice@sender.test\r\n\r\nhi\r\n", "bob@example.test", "carol@example.test");
        var verdict = await h.RunAsync(Phase.Data, both);

        Assert.Equal(VerdictKind.Tempfail, verdict.Kind);
        Assert.Equal("192.0.2.0/24 <alice@sender.test> <carol@example.test>: first attempt", Assert.Single(verdict.Symbols).Detail);
    }

    [Fact]
    public async Task At_the_end_of_data_a_valid_dkim_signature_of_the_senders_domain_exempts_it()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var dns = new ZoneResolver().Add("s1._domainkey.sender.test", RecordType.TXT, "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()));
        var message = Mail.Message();
        message.Prepare(MimeKit.EncodingConstraint.SevenBit);
        new MimeKit.Cryptography.DkimSigner(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(rsa.ExportPkcs8PrivateKeyPem())), "sender.test", "s1")
            .Sign(message, [MimeKit.HeaderId.From, MimeKit.HeaderId.Subject]);
        using var bytes = new MemoryStream();
        message.WriteTo(new MimeKit.FormatOptions { NewLineFormat = MimeKit.NewLineFormat.Dos }, bytes);
        var h = DataHarness();
        var session = h.Session(dns: dns);
        Deliver(session, System.Text.Encoding.ASCII.GetString(bytes.ToArray()), "bob@example.test");

        var verdict = await h.RunAsync(Phase.Data, session);

        Assert.Equal(VerdictKind.Continue, verdict.Kind);
        Assert.Equal("DKIM pass for sender.test", Assert.Single(verdict.Symbols).Detail);
    }
}
