namespace Gateway.Admin.WebConsole;

/// <summary>One web console user from admin.users: a name and a hash made by <c>gateway passwd</c>.</summary>
public sealed record ConsoleUser(string Name, PasswordHash PasswordHash);

/// <summary>
/// admin.lockout: after <see cref="Failures"/> failed logins within <see cref="Duration"/>, the user name and the
/// client address are each refused for <see cref="Duration"/>; every failure is answered after <see cref="Delay"/>.
/// </summary>
public sealed record LockoutPolicy(int Failures, TimeSpan Duration, TimeSpan Delay)
{
    public static readonly LockoutPolicy Default = new(5, TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(1));
}
