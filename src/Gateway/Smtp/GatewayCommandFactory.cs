using SmtpServer;
using SmtpServer.Protocol;

namespace Gateway.Smtp;

/// <summary>Gives SmtpServer the gateway's HELO and EHLO replies (hostname, no software version, our extensions).</summary>
public sealed class GatewayCommandFactory : SmtpCommandFactory
{
    public override SmtpCommand CreateEhlo(string domainOrAddress) => new GatewayEhloCommand(domainOrAddress);

    public override SmtpCommand CreateHelo(string domainOrAddress) => new GatewayHeloCommand(domainOrAddress);

    internal static SessionState Session(ISessionContext context) => (SessionState)context.Properties[SessionState.PropertyKey];

    internal static string Greeting(ISessionContext context)
    {
        var session = Session(context);
        return $"{session.Config.Server.Hostname} Hello {session.Helo} [{session.Remote.Address}]";
    }
}

public sealed class GatewayEhloCommand(string domainOrAddress) : EhloCommand(domainOrAddress)
{
    protected override string GetGreeting(ISessionContext context) => GatewayCommandFactory.Greeting(context);

    protected override IEnumerable<string> GetExtensions(ISessionContext context)
    {
        var session = GatewayCommandFactory.Session(context);
        yield return "PIPELINING";
        yield return $"SIZE {session.Config.Limits.MaxMessageSize}";
        if (!context.Pipe.IsSecure && session.Config.Server.Tls is not null)
            yield return "STARTTLS";
        yield return "ENHANCEDSTATUSCODES";
        yield return "8BITMIME";
        yield return "SMTPUTF8";
    }
}

public sealed class GatewayHeloCommand(string domainOrAddress) : HeloCommand(domainOrAddress)
{
    protected override string GetGreeting(ISessionContext context) => GatewayCommandFactory.Greeting(context);
}
