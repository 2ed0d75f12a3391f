// A small DNS server on loopback UDP (ARSoft.Tools.Net) for the benchmark: fixed TXT records, NXDOMAIN with an SOA
// for every other name. TTLs (and the SOA's negative TTL) are long, so nothing the resolver cached during setup
// expires while BenchmarkDotNet measures; every query that arrives is counted, so the benchmark can prove that.
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace AuthBench;

public sealed class LoopbackDns : IDisposable
{
    private const int Ttl = 3600;

    private readonly DnsServer _server;
    private readonly Dictionary<string, List<DnsRecordBase>> _records = new(StringComparer.OrdinalIgnoreCase);
    private int _queries;

    private LoopbackDns(IPEndPoint endPoint, IEnumerable<(string Name, string Text)> txt)
    {
        foreach (var (name, text) in txt)
        {
            if (!_records.TryGetValue(name, out var list))
                _records[name] = list = [];
            list.Add(new TxtRecord(DomainName.Parse(name), Ttl, Split(text)));
        }
        EndPoint = endPoint;
        _server = new DnsServer(new UdpServerTransport(endPoint));
        _server.QueryReceived += OnQueryAsync;
        _server.Start();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Queries received so far, whatever the name.</summary>
    public int Queries => Volatile.Read(ref _queries);

    /// <summary>Starts on a free loopback port (found by binding a socket to port 0 and letting it go).</summary>
    public static LoopbackDns Start(params (string Name, string Text)[] txt)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var endPoint = (IPEndPoint)probe.LocalEndPoint!;
        probe.Close();
        return new LoopbackDns(endPoint, txt);
    }

    /// <summary>TXT strings are at most 255 octets each: long texts (DKIM keys) go as several strings.</summary>
    private static List<string> Split(string text)
    {
        var parts = new List<string>();
        for (var i = 0; i < text.Length; i += 255)
            parts.Add(text.Substring(i, Math.Min(255, text.Length - i)));
        return parts.Count == 0 ? [""] : parts;
    }

    private Task OnQueryAsync(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query || query.Questions.Count != 1)
            return Task.CompletedTask;
        Interlocked.Increment(ref _queries);
        var question = query.Questions[0];
        var name = question.Name.ToString().TrimEnd('.');
        var response = query.CreateResponseInstance();
        if (_records.TryGetValue(name, out var records))
        {
            response.ReturnCode = ReturnCode.NoError;
            response.AnswerRecords.AddRange(records.Where(r => r.RecordType == question.RecordType));
            if (response.AnswerRecords.Count == 0)
                response.AuthorityRecords.Add(Soa(name));
        }
        else
        {
            response.ReturnCode = ReturnCode.NxDomain;
            response.AuthorityRecords.Add(Soa(name));
        }
        e.Response = response;
        return Task.CompletedTask;
    }

    /// <summary>An SOA whose negative TTL (RFC 2308) is an hour (the gateway's cache keeps negative answers 15 minutes at most).</summary>
    private static SoaRecord Soa(string name) =>
        new(DomainName.Parse(name), Ttl, DomainName.Parse("ns.test"), DomainName.Parse("hostmaster.test"), 1, 3600, 600, 86400, Ttl);

    public void Dispose()
    {
        try
        {
            _server.Stop();
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
        {
            // ARSoft's Stop waits for its listener tasks, which end by being cancelled.
        }
    }
}
