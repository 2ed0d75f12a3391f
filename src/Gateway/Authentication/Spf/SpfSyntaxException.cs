namespace Gateway.Authentication.Spf;

/// <summary>A record, domain-spec or explanation string that breaks the grammar of RFC 7208 (section 12).</summary>
public sealed class SpfSyntaxException(string message) : Exception(message);
