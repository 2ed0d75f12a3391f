using Microsoft.Extensions.Time.Testing;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Support;

namespace Gateway.Tests.EndToEnd;

public class LimitTests
{
    [Fact]
    public async Task A_command_line_over_512_octets_is_refused_and_the_session_goes_on()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.Equal("500 5.5.2 Line too long", await c.CommandAsync("NOOP " + new string('x', 600)));
            Assert.Equal("500 5.5.2 Line too long", await c.CommandAsync("HELO " + new string('x', 20_000)));
            Assert.Equal("250 2.0.0 OK", await c.CommandAsync("NOOP"));
        }
    }

    [Fact]
    public async Task A_line_that_never_ends_is_cut_off_at_the_hard_cap()
    {
        await using var gateway = await GatewayHost.StartAsync();
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            var reply = "";
            try
            {
                // No CRLF at all: the gateway must answer and close without waiting for one.
                await c.SendAsync(new byte[128 * 1024]);
            }
            catch (IOException)
            {
                // The gateway may close before everything is written.
            }
            reply = await c.ReadReplyAsync();
            Assert.Equal("500 5.5.2 Line too long, closing connection", reply);
            Assert.True(await c.IsClosedAsync());
        }
    }

    [Fact]
    public async Task Data_over_the_size_limit_is_refused_with_552_and_not_forwarded()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_message_size: 4KB\n", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            var big = string.Concat(Enumerable.Repeat(new string('y', 70) + "\r\n", 100));
            Assert.Equal("552 5.3.4 Message size exceeds fixed maximum message size", await c.CommandAsync("Subject: big\r\n\r\n" + big + "."));
            Assert.Equal("250 2.0.0 Reset OK", await c.CommandAsync("RSET"));
        }
        // The recipient went upstream at RCPT (upstream.recipients: realtime); the refused message never did.
        await upstream.WaitForResetAsync();
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task Data_far_over_the_limit_closes_the_connection_without_buffering_it()
    {
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_message_size: 4KB\n");
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(new string('z', 1000) + "\r\n", 64)));
            try
            {
                for (var i = 0; i < 64; i++)
                    await c.SendAsync(chunk);
            }
            catch (IOException)
            {
            }
            Assert.Equal("552 5.3.4 Message size exceeds fixed maximum message size, closing connection", await c.ReadReplyAsync());
            Assert.True(await c.IsClosedAsync());
        }
    }

    [Theory]
    [InlineData("SIZE=5000")]
    [InlineData("SIZE=99999999999999999999999999")]
    public async Task A_declared_size_over_the_limit_is_refused_at_mail(string parameter)
    {
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_message_size: 4KB\n");
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.Equal("552 5.3.4 Message size exceeds fixed maximum message size", await c.CommandAsync($"MAIL FROM:<a@sender.test> {parameter}"));
            Assert.StartsWith("250 2.1.0", await c.CommandAsync("MAIL FROM:<a@sender.test> SIZE=4000"));
        }
    }

    [Fact]
    public async Task Recipients_over_the_limit_get_452()
    {
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_recipients: 2\n");
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.test"));
            Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<a@sender.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<one@example.test>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<two@example.test>"));
            Assert.Equal("452 4.5.3 Too many recipients", await c.CommandAsync("RCPT TO:<three@example.test>"));
        }
    }

    [Fact]
    public async Task Connections_over_the_per_address_limit_get_421_and_are_closed()
    {
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_connections_per_ip: 2\n");
        var (a, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        var (b, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (a)
        await using (b)
        {
            var (c, greeting) = await RawSmtpClient.OpenAsync(gateway.Port);
            await using (c)
            {
                Assert.Equal("421 4.7.0 Too many connections from your address, try again later", greeting);
                Assert.True(await c.IsClosedAsync());
            }
            Assert.StartsWith("250", await a.CommandAsync("NOOP"));
        }
    }

    [Fact]
    public async Task Connections_over_the_global_limit_get_421_and_a_freed_slot_is_reused()
    {
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_connections: 1\n");
        var (a, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (a)
        {
            var (b, greeting) = await RawSmtpClient.OpenAsync(gateway.Port);
            await using (b)
                Assert.Equal("421 4.7.0 Too many connections, try again later", greeting);
            Assert.StartsWith("221", await a.CommandAsync("QUIT"));
            Assert.True(await a.IsClosedAsync());
        }
        await gateway.Logs.WaitForAsync(l => l.Contains("session end") && l.Contains("last_reply=\"221"));
        var (c, ok) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
            Assert.StartsWith("220 ", ok);
    }

    [Fact]
    public async Task An_idle_client_is_closed_after_the_command_timeout()
    {
        // The server's clock is a fake one: the timeout passes when the test says so, however loaded the machine.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync("limits:\n  command_timeout: 5m\n  session_timeout: 1000h\n", time: clock);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.Equal("250 2.0.0 OK", await c.CommandAsync("NOOP"));
            clock.Advance(TimeSpan.FromMinutes(4));
            Assert.Equal("250 2.0.0 OK", await c.CommandAsync("NOOP")); // four minutes idle: within the limit
            // The server arms its idle timer after its reply went out: the clock moves on until it has fired.
            var reply = c.ReadReplyAsync();
            while (!reply.IsCompleted)
            {
                clock.Advance(TimeSpan.FromMinutes(6));
                await Task.WhenAny(reply, Task.Delay(20));
            }
            Assert.Equal("421 4.4.2 Idle timeout, closing connection", await reply);
            Assert.True(await c.IsClosedAsync());
        }
    }

    [Fact]
    public async Task A_client_that_stalls_in_data_is_closed_after_the_data_timeout()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("limits:\n  data_timeout: 300ms\n", upstream);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            await Mail.BeginDataAsync(c);
            await c.SendAsync("Subject: half a message\r\n");
            Assert.Equal("421 4.4.2 Timeout while reading message data, closing connection", await c.ReadReplyAsync());
            Assert.True(await c.IsClosedAsync());
        }
        Assert.Empty(upstream.Messages);
    }

    [Fact]
    public async Task A_session_is_closed_when_its_whole_time_is_up_even_if_busy()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayHost.StartAsync("limits:\n  session_timeout: 10m\n  command_timeout: 1h\n", time: clock);
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.Equal("250 2.0.0 OK", await c.CommandAsync("NOOP"));
            clock.Advance(TimeSpan.FromMinutes(9));
            Assert.Equal("250 2.0.0 OK", await c.CommandAsync("NOOP")); // busy, and within its time
            clock.Advance(TimeSpan.FromMinutes(2));
            // Never idle for long (the command timeout is an hour): the session's own limit ends it. (A read that
            // began before the clock moved may still answer one NOOP; the next read is past the limit.)
            var reply = await c.CommandAsync("NOOP");
            if (reply == "250 2.0.0 OK")
                reply = await c.CommandAsync("NOOP");
            Assert.Equal("421 4.4.2 Session time limit reached, closing connection", reply);
            Assert.True(await c.IsClosedAsync());
        }
    }

    [Fact]
    public async Task Repeated_errors_close_the_session_with_421()
    {
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_errors: 3\n");
        var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
        await using (c)
        {
            Assert.StartsWith("500", await c.CommandAsync("ONE"));
            Assert.StartsWith("500", await c.CommandAsync("TWO"));
            Assert.StartsWith("500", await c.CommandAsync("THREE"));
            Assert.Equal("421 4.7.0 Too many errors, closing connection", await c.CommandAsync("NOOP"));
            Assert.True(await c.IsClosedAsync());
        }
    }

    [Fact]
    public async Task Garbage_does_not_hurt_the_server()
    {
        await using var upstream = new FakeUpstream();
        await using var gateway = await GatewayHost.StartAsync("limits:\n  max_errors: 1000\n", upstream);
        var random = new Random(1234);
        for (var round = 0; round < 20; round++)
        {
            var (c, _) = await RawSmtpClient.OpenAsync(gateway.Port);
            await using (c)
            {
                var junk = new byte[random.Next(1, 4000)];
                random.NextBytes(junk);
                try
                {
                    await c.SendAsync(junk);
                    await c.SendAsync("\r\nQUIT\r\n");
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                }
            }
        }
        Assert.Equal("2.0.0 Ok: queued as TEST", await Mail.SendAsync(gateway.Port, Mail.Message()));
    }
}
