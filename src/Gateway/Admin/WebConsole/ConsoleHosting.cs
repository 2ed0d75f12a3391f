using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Admin.WebConsole;

/// <summary>
/// What the admin listener adds when the console is on: ASP.NET Core's cookie authentication (HttpOnly,
/// SameSite=Strict, Secure under HTTPS, 8 hours sliding), its antiforgery tokens, and data protection keys kept in
/// memory only (sessions end when the gateway restarts; nothing secret is written to disk). Every answer carries the
/// security headers of <see cref="ConsoleLayout"/>.
/// </summary>
public static class ConsoleHosting
{
    public const string SessionCookie = "gateway_session";
    public const string AntiforgeryCookie = "gateway_csrf";
    public const string AntiforgeryField = "csrf";

    /// <summary>A session ends this long after its last click.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(8);

    public static X509Certificate2 LoadCertificate(TlsConfig tls)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(tls.CertificatePath, tls.KeyPath);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new AdminListenException($"cannot load admin.tls {tls.CertificatePath}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The keys that sign session cookies and antiforgery tokens: in memory (a restart logs everyone out), or in
    /// admin.keys, a directory only the gateway's user can read (mode 0700), so that sessions survive a restart and
    /// gateways sharing the directory accept each other's. The keys are stored as ASP.NET Core writes them, not
    /// encrypted (on Linux it has nothing to encrypt them with short of a certificate): the directory's mode is the
    /// protection, as for the TLS key.
    /// </summary>
    private static void AddKeys(IServiceCollection services, AdminConfig config)
    {
        var protection = services.AddDataProtection().SetApplicationName("gateway-console");
        if (config.KeysDirectory is not { } directory)
        {
            protection.UseEphemeralDataProtectionProvider();
            return;
        }
        DirectoryInfo info;
        try
        {
            info = Directory.CreateDirectory(directory);
            if (!OperatingSystem.IsWindows())
                info.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AdminListenException($"cannot use admin.keys {directory}: {e.Message}", e);
        }
        protection.PersistKeysToFileSystem(info);
        // Said once here rather than as a warning at every start: the keys are not encrypted at rest.
        services.Configure<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>(o =>
            o.XmlEncryptor = new Microsoft.AspNetCore.DataProtection.XmlEncryption.NullXmlEncryptor());
    }

    public static void AddServices(IServiceCollection services, AdminConfig config, ConsoleEndpoints console)
    {
        var secure = config.Tls is null ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        AddKeys(services, config);
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            o.Cookie.Name = SessionCookie;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = secure;
            o.LoginPath = "/login";
            o.LogoutPath = "/logout";
            o.AccessDeniedPath = "/login";
            o.ReturnUrlParameter = "return";
            o.ExpireTimeSpan = SessionLifetime;
            o.SlidingExpiration = true;
            o.Events.OnValidatePrincipal = async context =>
            {
                if (context.Principal is null || !console.StillValid(context.Principal))
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
                }
            };
        });
        services.AddAuthorization();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = AntiforgeryCookie;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = secure;
            o.FormFieldName = AntiforgeryField;
            o.SuppressXFrameOptionsHeader = true; // ConsoleLayout sets DENY, stricter than antiforgery's SAMEORIGIN
        });
    }

    public static void UseMiddleware(WebApplication app)
    {
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                ConsoleLayout.AddSecurityHeaders(context.Response);
                return Task.CompletedTask;
            });
            return next(context);
        });
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
    }
}
