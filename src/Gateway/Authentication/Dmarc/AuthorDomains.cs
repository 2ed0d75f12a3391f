using MimeKit;

namespace Gateway.Authentication.Dmarc;

/// <summary>Finds the author domain (RFC 7489 3.1.1, 6.6.1): the domain of the one mailbox of the one From field.</summary>
public static class AuthorDomains
{
    // Loose parsing (display names with odd quoting are common), but an address must have a domain.
    private static readonly ParserOptions Options = CreateOptions();

    private static ParserOptions CreateOptions()
    {
        var options = ParserOptions.Default.Clone();
        options.AllowAddressesWithoutDomain = false;
        return options;
    }

    public static AuthorDomainResult Extract(HeaderList headers)
    {
        var fromHeaders = new List<string>();
        var domains = new List<string>();
        string? problem = null;
        var mailboxes = 0;
        foreach (var header in headers)
        {
            if (header.Id != HeaderId.From)
                continue;
            fromHeaders.Add(header.Value);
            if (!InternetAddressList.TryParse(Options, header.RawValue, out var list))
            {
                problem ??= "unparseable-from";
                continue;
            }
            foreach (var address in list)
            {
                if (address is GroupAddress group)
                {
                    problem ??= "group-syntax";
                    foreach (var member in group.Members.Mailboxes)
                        mailboxes += Collect(member, domains, ref problem);
                }
                else if (address is MailboxAddress mailbox)
                {
                    mailboxes += Collect(mailbox, domains, ref problem);
                }
            }
        }
        if (fromHeaders.Count == 0)
            problem = "no-from";
        else if (fromHeaders.Count > 1)
            problem = "multiple-from";
        else if (problem is null && mailboxes > 1)
            problem = "multiple-addresses";
        else if (problem is null && domains.Count == 0)
            problem = "unparseable-from";
        return new AuthorDomainResult(fromHeaders, domains, problem);
    }

    private static int Collect(MailboxAddress mailbox, List<string> domains, ref string? problem)
    {
        // An address literal ("user@[192.0.2.1]") has no DNS domain to look a policy up for.
        var domain = mailbox.Domain.StartsWith('[') ? null : DomainNames.ToAscii(mailbox.Domain);
        if (domain is null)
        {
            problem ??= "unparseable-from";
            return 1;
        }
        if (!domains.Contains(domain))
            domains.Add(domain);
        return 1;
    }
}
