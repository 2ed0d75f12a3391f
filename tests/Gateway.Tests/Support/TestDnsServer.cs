using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Gateway.Tests.Support;

/// <summary>
/// A real DNS server on loopback UDP (ARSoft.Tools.Net's DnsServer) serving test zones: names without records are
/// NXDOMAIN with an SOA, names marked failing answer SERVFAIL, names marked silent never answer.
/// </summary>
public sealed class TestDnsServer : IDisposable
{
    private readonly DnsServer _server;
    private readonly ConcurrentDictionary<string, List<DnsRecordBase>> _records = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ReturnCode> _failures = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _silent = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _queriesByName = new(StringComparer.OrdinalIgnoreCase);

    private TestDnsServer(IPEndPoint endPoint)
    {
        EndPoint = endPoint;
        _server = new DnsServer(new UdpServerTransport(endPoint));
        _server.QueryReceived += OnQueryAsync;
        _server.Start();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>How many queries for the name arrived (answered, or dropped when silent).</summary>
    public int QueriesFor(string name) => _queriesByName.TryGetValue(name.TrimEnd('.'), out var count) ? count : 0;

    /// <summary>Starts on a free loopback port (found by binding a socket to port 0 and letting it go).</summary>
    public static TestDnsServer Start()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var endPoint = (IPEndPoint)probe.LocalEndPoint!;
        probe.Close();
        return new TestDnsServer(endPoint);
    }

    public TestDnsServer Txt(string name, string text, int ttl = 300) =>
        Add(name, new TxtRecord(DomainName.Parse(name), ttl, Split(text)));

    public TestDnsServer A(string name, string address, int ttl = 300) =>
        Add(name, new ARecord(DomainName.Parse(name), ttl, IPAddress.Parse(address)));

    public TestDnsServer Aaaa(string name, string address, int ttl = 300) =>
        Add(name, new AaaaRecord(DomainName.Parse(name), ttl, IPAddress.Parse(address)));

    public TestDnsServer Mx(string name, int preference, string exchange, int ttl = 300) =>
        Add(name, new MxRecord(DomainName.Parse(name), ttl, (ushort)preference, DomainName.Parse(exchange)));

    public TestDnsServer Ptr(IPAddress address, string host, int ttl = 300)
    {
        var name = Gateway.Dns.DnsNames.ReverseName(address);
        return Add(name, new PtrRecord(DomainName.Parse(name), ttl, DomainName.Parse(host)));
    }

    public TestDnsServer ServFail(string name)
    {
        _failures[name] = ReturnCode.ServerFailure;
        return this;
    }

    public TestDnsServer Silent(string name)
    {
        _silent[name] = true;
        return this;
    }

    private TestDnsServer Add(string name, DnsRecordBase record)
    {
        _records.AddOrUpdate(name, _ => [record], (_, list) => { lock (list) list.Add(record); return list; });
        return this;
    }

    /// <summary>TXT strings are at most 255 octets each: long texts (DKIM keys) go as several strings.</summary>
    private static IEnumerable<string> Split(string text)
    {
        for (var i = 0; i < text.Length; i += 255)
            yield return text.Substring(i, Math.Min(255, text.Length - i));
        if (text.Length == 0)
            yield return "";
    }

    private Task OnQueryAsync(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query || query.Questions.Count != 1)
            return Task.CompletedTask;
        var question = query.Questions[0];
        var name = question.Name.ToString().TrimEnd('.');
        _queriesByName.AddOrUpdate(name, 1, (_, n) => n + 1);
        if (_silent.ContainsKey(name))
            return Task.CompletedTask; // no response at all: the client times out
        var response = query.CreateResponseInstance();
        if (_failures.TryGetValue(name, out var failure))
            response.ReturnCode = failure;
        else if (_records.TryGetValue(name, out var records))
        {
            response.ReturnCode = ReturnCode.NoError;
            lock (records)
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

    /// <summary>An SOA whose negative TTL (RFC 2308) is 60 s.</summary>
    private static SoaRecord Soa(string name) =>
        new(DomainName.Parse(name), 60, DomainName.Parse("ns.test"), DomainName.Parse("hostmaster.test"), 1, 3600, 600, 86400, 60);

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
