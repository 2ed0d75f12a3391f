// Message-authentication benchmark (BenchmarkDotNet): SPF, DKIM (one 2048-bit RSA rsa-sha256 signature,
// relaxed/relaxed) and DMARC for a 4 KB text/plain message, with every DNS answer already cached, through the code a
// live session runs: a SessionState whose Dns is the real DnsClientResolver (and its TTL cache), a new transaction
// (so a new AuthenticationState), the message in a MessageSpool, then AuthenticationState's HeloSpfAsync and
// DmarcAsync (which starts SPF, DKIM and the DMARC record lookup side by side). The resolver asks a DNS server on
// loopback; setup runs one message through so that every answer is cached, and checks spf, dkim and dmarc pass.
// DKIM alone, SPF alone, the RSA verification alone (BouncyCastle, which MimeKit uses, and .NET's for comparison) and
// the per-message setup without any check show where the time goes.
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using AuthBench;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Gateway.Authentication.Dkim;
using Gateway.Authentication.Dmarc;
using Gateway.Authentication.Spf;
using Gateway.Configuration;
using Gateway.Dns;
using MimeKit;
using MimeKit.Cryptography;

BenchmarkRunner.Run<MessageAuthentication>(args: args);

[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(warmupCount: 3, iterationCount: 15)]
public class MessageAuthentication
{
    private static readonly IPEndPoint Client = new(IPAddress.Parse("192.0.2.10"), 40_000);
    private static readonly IPEndPoint Server = new(IPAddress.Loopback, 25);
    private static readonly IReadOnlyDictionary<string, string?> NoParameters = new Dictionary<string, string?>();

    private string _dir = "";
    private LoopbackDns _dns = null!;
    private GatewayConfig _config = null!;
    private DnsClientResolver _resolver = null!;
    private SmtpPath _sender = null!;
    private SmtpPath _recipient = null!;
    private byte[] _message = [];
    private int _queriesAfterSetup;
    private Org.BouncyCastle.Crypto.AsymmetricKeyParameter _publicKey = null!;
    private RSA _rsa = null!;
    private byte[] _signedData = [];
    private byte[] _signature = [];

    [GlobalSetup]
    public void Setup()
    {
        using var rsa = RSA.Create(2048);
        var keyRecord = "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
        _dns = LoopbackDns.Start(
            ("sender.test", "v=spf1 ip4:192.0.2.0/24 -all"),
            ("s1._domainkey.sender.test", keyRecord),
            ("_dmarc.sender.test", "v=DMARC1; p=reject"));

        _dir = Directory.CreateTempSubdirectory("authbench-").FullName;
        var yaml = $"""
            server: {"{"} hostname: mx.example.test {"}"}
            relay: {"{"} domains: [example.test] {"}"}
            upstream: {"{"} directory: out {"}"}
            dns: {"{"} servers: ["{_dns.EndPoint}"] {"}"}

            """;
        var load = ConfigLoader.Load(yaml, "gateway.yaml", _dir);
        if (!load.IsValid)
            throw new InvalidOperationException(string.Join("\n", load.Errors));
        _config = load.Config!;
        _resolver = new DnsClientResolver(_config.Dns);

        if (SmtpPath.TryParse("<alice@sender.test>", allowNull: true, allowBarePostmaster: false, out _sender, out _) is { } senderError)
            throw new InvalidOperationException(senderError);
        if (SmtpPath.TryParse("<bob@example.test>", allowNull: false, allowBarePostmaster: true, out _recipient, out _) is { } recipientError)
            throw new InvalidOperationException(recipientError);
        _message = Generated.SignedMessage(rsa);

        // The first message: every answer comes from the DNS server, and the DKIM key is parsed (and kept by
        // DkimKeyRecord's process-wide cache). Timed to show what the caches save; not part of the measurements.
        var cold = Stopwatch.StartNew();
        var (helo, spf, dkim, dmarc) = RunOnce();
        cold.Stop();
        if (spf.Result != SpfResult.Pass || dkim is not [{ Result: DkimResult.Pass }] || dmarc.Result != DmarcResult.Pass || helo?.Result is not (null or SpfResult.None))
            throw new InvalidOperationException($"authentication did not pass: spf={spf.Result} ({spf.Problem}), "
                + $"dkim={string.Join(",", dkim.Select(d => $"{d.Result} ({d.Reason})"))}, dmarc={dmarc.Result} ({dmarc.Reason}), helo spf={helo?.Result}");
        var queries = _dns.Queries;

        // A second message must not ask the DNS server anything: all answers, positive and negative, are cached.
        var warm = Stopwatch.StartNew();
        RunOnce();
        warm.Stop();
        _queriesAfterSetup = _dns.Queries;
        if (_queriesAfterSetup != queries)
            throw new InvalidOperationException($"the second message made {_queriesAfterSetup - queries} DNS queries: answers are not cached");

        // What a miss in DkimKeyRecord's process-wide cache costs: a 2048-bit key this process has not seen.
        using var other = RSA.Create(2048);
        var otherRecord = "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(other.ExportSubjectPublicKeyInfo()); // generates the key
        var parse = Stopwatch.StartNew();
        if (DkimKeyRecord.Parse(otherRecord, out var keyError) is null)
            throw new InvalidOperationException(keyError);
        parse.Stop();

        // For the two RSA-only benchmarks: the key as DKIM uses it, and about as many bytes as the signed headers.
        _publicKey = DkimKeyRecord.Parse(keyRecord, out _)!.PublicKey;
        _rsa = RSA.Create();
        _rsa.ImportSubjectPublicKeyInfo(rsa.ExportSubjectPublicKeyInfo(), out _);
        _signedData = Encoding.ASCII.GetBytes(new string('h', 700));
        _signature = rsa.SignData(_signedData, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        Console.WriteLine($"// AuthBench setup: message {_message.Length} bytes; first message {cold.Elapsed.TotalMilliseconds:F1} ms "
            + $"({queries} DNS queries, key parsed), second {warm.Elapsed.TotalMilliseconds:F2} ms (no queries); "
            + $"parsing a new 2048-bit key record: {parse.Elapsed.TotalMilliseconds:F1} ms");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var extra = _dns.Queries - _queriesAfterSetup;
        _dns.Dispose();
        _rsa.Dispose();
        Directory.Delete(_dir, recursive: true);
        // Had a cached answer expired during the run, some iterations would have measured a DNS round trip.
        if (extra != 0)
            throw new InvalidOperationException($"{extra} DNS queries were made while measuring: the results include uncached lookups");
    }

    /// <summary>What a session holds at the end of DATA: a new transaction from alice@sender.test, the message spooled.</summary>
    private SessionState NewTransaction()
    {
        var session = new SessionState("B", _config, Client, Server) { Dns = _resolver, Helo = "mail.sender.test", Extended = true };
        session.BeginTransaction(_sender, NoParameters);
        session.Recipients.Add(_recipient);
        var spool = new MessageSpool();
        spool.Write(_message);
        session.Message = spool;
        return session;
    }

    private (SpfOutcome? Helo, SpfOutcome Spf, IReadOnlyList<DkimSignatureResult> Dkim, DmarcOutcome Dmarc) RunOnce()
    {
        var session = NewTransaction();
        try
        {
            var helo = session.Authentication.HeloSpfAsync(default).GetAwaiter().GetResult();
            var dmarc = session.Authentication.DmarcAsync(default).GetAwaiter().GetResult();
            return (helo, session.Authentication.Spf!, session.Authentication.Dkim!, dmarc);
        }
        finally
        {
            session.ResetTransaction();
        }
    }

    [Benchmark(Description = "SPF (MAIL FROM + HELO) + DKIM + DMARC")]
    public async Task<DmarcResult> All()
    {
        var session = NewTransaction();
        try
        {
            // In the order a session asks: HELO's SPF, then at the end of DATA, DMARC (which runs SPF and DKIM).
            await session.Authentication.HeloSpfAsync(default);
            var dmarc = await session.Authentication.DmarcAsync(default);
            return dmarc.Result == DmarcResult.Pass ? dmarc.Result : throw new InvalidOperationException($"dmarc={dmarc.Result}");
        }
        finally
        {
            session.ResetTransaction();
        }
    }

    [Benchmark(Description = "DKIM only (parse + body hash + RSA verify)")]
    public async Task<DkimResult> DkimOnly()
    {
        var session = NewTransaction();
        try
        {
            var dkim = await session.Authentication.DkimAsync(default);
            return dkim is [{ Result: DkimResult.Pass }] ? DkimResult.Pass : throw new InvalidOperationException("dkim did not pass");
        }
        finally
        {
            session.ResetTransaction();
        }
    }

    [Benchmark(Description = "SPF only (MAIL FROM)")]
    public async Task<SpfResult> SpfOnly()
    {
        var session = NewTransaction();
        try
        {
            var spf = await session.Authentication.SpfAsync(default);
            return spf.Result == SpfResult.Pass ? spf.Result : throw new InvalidOperationException($"spf={spf.Result}");
        }
        finally
        {
            session.ResetTransaction();
        }
    }

    [Benchmark(Description = "RSA-SHA256 verify only, BouncyCastle (as MimeKit)")]
    public bool RsaVerifyBouncyCastle()
    {
        var signer = new Org.BouncyCastle.Crypto.Signers.RsaDigestSigner(new Org.BouncyCastle.Crypto.Digests.Sha256Digest());
        signer.Init(false, _publicKey);
        signer.BlockUpdate(_signedData, 0, _signedData.Length);
        return signer.VerifySignature(_signature) ? true : throw new InvalidOperationException("signature did not verify");
    }

    [Benchmark(Description = "RSA-SHA256 verify only, .NET (for comparison)")]
    public bool RsaVerifyDotNet() =>
        _rsa.VerifyData(_signedData, _signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1) ? true : throw new InvalidOperationException("signature did not verify");

    [Benchmark(Description = "session + spool only (no checks)")]
    public long TransactionOnly()
    {
        var session = NewTransaction();
        var length = session.Message!.Length;
        session.ResetTransaction();
        return length;
    }
}

public static class Generated
{
    private static readonly string[] Sentences =
    [
        "Thanks for the quick turnaround on the draft you sent over last week.",
        "I went through the figures with the finance team this morning and most of them line up with our own numbers.",
        "The one open point is the shipping cost for the second quarter, which looks higher than what we agreed in March.",
        "Could you check whether the fuel surcharge was applied twice on the invoices from the Rotterdam warehouse?",
        "We would like to settle this before the end of the month so that the accounts can be closed on time.",
        "If it helps, I can set up a call on Thursday afternoon with Maria from procurement and someone from your billing team.",
        "Otherwise a short written summary of the corrections would be enough for us to approve the revised totals.",
        "On the delivery schedule, the new dates work for us, provided the pallets arrive before nine in the morning.",
        "Our receiving dock is closed on Fridays after two, so anything later than that would have to wait until Monday.",
        "Please also let me know if the contact details for your account manager have changed since the last contract.",
        "I have attached nothing to this message; the spreadsheet is in the shared folder under the usual name.",
        "Let me know if anything here is unclear or if you need more information from our side.",
    ];

    /// <summary>A ~4 KB text/plain message from alice@sender.test, DKIM-signed (rsa-sha256, relaxed/relaxed, d=sender.test,
    /// s=s1) and written as it arrives on the wire: CRLF line ends.</summary>
    public static byte[] SignedMessage(RSA key)
    {
        var message = new MimeMessage
        {
            Subject = "Re: Q2 invoices and the revised delivery schedule",
            Date = new DateTimeOffset(2026, 11, 27, 14, 32, 5, TimeSpan.FromHours(1)),
            MessageId = "20261127143205.4f2a9c1e@mail.sender.test",
            Body = new TextPart("plain") { Text = Body(2800), ContentTransferEncoding = ContentEncoding.SevenBit },
        };
        message.From.Add(new MailboxAddress("Alice Martin", "alice@sender.test"));
        message.To.Add(new MailboxAddress("Bob Keller", "bob@example.test"));
        message.Headers.Add("In-Reply-To", "<b7d1e0a2.20261126@mx.example.test>");
        message.Headers.Add(HeaderId.Received, "from laptop.sender.test (laptop.sender.test [192.0.2.77]) by mail.sender.test with ESMTPSA id 4f2a9c1e for <bob@example.test>; Fri, 27 Nov 2026 14:32:06 +0100");
        message.Prepare(EncodingConstraint.SevenBit);

        var signer = new DkimSigner(new MemoryStream(Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem())), "sender.test", "s1")
        {
            SignatureAlgorithm = DkimSignatureAlgorithm.RsaSha256,
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
        signer.Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId, HeaderId.InReplyTo, HeaderId.MimeVersion, HeaderId.ContentType]);

        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        using var output = new MemoryStream();
        message.WriteTo(format, output);
        return output.ToArray();
    }

    /// <summary>Paragraphs of plain sentences wrapped at 72 columns, about <paramref name="size"/> characters.</summary>
    private static string Body(int size)
    {
        var random = new Random(7);
        var body = new StringBuilder("Hi Bob,\n\n");
        while (body.Length < size)
        {
            var line = new StringBuilder();
            foreach (var sentence in Enumerable.Range(0, 3 + random.Next(3)).Select(_ => Sentences[random.Next(Sentences.Length)]))
            {
                foreach (var word in sentence.Split(' '))
                {
                    if (line.Length + 1 + word.Length > 72)
                    {
                        body.Append(line).Append('\n');
                        line.Clear();
                    }
                    line.Append(line.Length > 0 ? " " : "").Append(word);
                }
            }
            body.Append(line).Append("\n\n");
        }
        return body.Append("Best regards,\nAlice\n\n-- \nAlice Martin | Purchasing | Sender Test Ltd.\n").ToString();
    }
}
