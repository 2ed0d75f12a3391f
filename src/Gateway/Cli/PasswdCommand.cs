using System.Text;
using Gateway.Admin.WebConsole;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway passwd</c>: prints a password hash for admin.users[].password_hash. The password is the first line of
/// standard input when it is redirected (echo "$PW" | gateway passwd), else it is asked twice without echo.
/// </summary>
public static class PasswdCommand
{
    public static int Run(TextReader? input, TextWriter stdout, TextWriter stderr)
    {
        string? password;
        if (input is not null || Console.IsInputRedirected)
            password = (input ?? Console.In).ReadLine();
        else
        {
            password = Prompt("Password: ", stderr);
            if (password is not null && Prompt("Again: ", stderr) != password)
            {
                stderr.WriteLine("the two passwords differ");
                return 1;
            }
        }
        if (string.IsNullOrEmpty(password))
        {
            stderr.WriteLine("no password given (type it at the prompt, or give it as the first line of standard input)");
            return 1;
        }
        if (password.Length < 12)
            stderr.WriteLine("warning: a password under 12 characters is easy to guess offline if the configuration leaks");
        stdout.WriteLine(PasswordHash.Create(password).ToString());
        return 0;
    }

    private static string? Prompt(string prompt, TextWriter stderr)
    {
        stderr.Write(prompt);
        var b = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
                break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (b.Length > 0)
                    b.Length--;
            }
            else if (!char.IsControl(key.KeyChar))
                b.Append(key.KeyChar);
        }
        stderr.WriteLine();
        return b.ToString();
    }
}
