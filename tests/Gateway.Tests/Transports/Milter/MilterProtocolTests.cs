using System.Buffers;
using System.Text;
using Gateway.Transports.Milter;

namespace Gateway.Tests.Transports.Milter;

/// <summary>The milter protocol at the packet level: framing, every command Postfix sends, our replies byte for byte.</summary>
public sealed class MilterProtocolTests
{
    private static byte[] Frame(char code, string payload) => MilterFrame.Write((byte)code, Encoding.Latin1.GetBytes(payload));

    private static MilterRequest Parse(char code, string payload)
    {
        var buffer = new ReadOnlySequence<byte>(Frame(code, payload));
        Assert.True(MilterFrame.TryRead(ref buffer, MilterFrame.DefaultMaxPacket, out var packet));
        Assert.True(buffer.IsEmpty);
        return MilterRequest.Parse(packet);
    }

    [Fact]
    public void A_frame_is_read_only_once_whole_and_two_in_one_buffer_come_out_in_order()
    {
        var bytes = Frame('H', "mail.example.test\0").Concat(Frame('T', "")).ToArray();
        var partial = new ReadOnlySequence<byte>(bytes, 0, 10);
        Assert.False(MilterFrame.TryRead(ref partial, MilterFrame.DefaultMaxPacket, out _));

        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(MilterFrame.TryRead(ref buffer, MilterFrame.DefaultMaxPacket, out var first));
        Assert.True(MilterFrame.TryRead(ref buffer, MilterFrame.DefaultMaxPacket, out var second));
        Assert.Equal(new HeloRequest("mail.example.test"), MilterRequest.Parse(first));
        Assert.IsType<DataRequest>(MilterRequest.Parse(second));
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0 }, "empty packet")]
    [InlineData(new byte[] { 0x7f, 0xff, 0xff, 0xff }, "exceeds the limit")]
    public void A_zero_or_oversized_length_is_refused_before_anything_is_buffered(byte[] prefix, string message)
    {
        var buffer = new ReadOnlySequence<byte>(prefix);
        var e = Assert.Throws<MilterProtocolException>(() => MilterFrame.TryRead(ref buffer, MilterFrame.DefaultMaxPacket, out _));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Parses_negotiation_macros_connect_and_the_envelope()
    {
        var optneg = (OptionNegotiationRequest)MilterRequest.Parse(new MilterPacket((byte)'O', new byte[] { 0, 0, 0, 6, 0, 0, 1, 0xff, 0, 0x1f, 0xff, 0xff }));
        Assert.Equal(6u, optneg.Version);
        Assert.True(optneg.Actions.HasFlag(MilterActions.ChangeHeaders));
        Assert.True(optneg.Steps.HasFlag(MilterSteps.NoReplyHeader));

        var macros = (MacroRequest)Parse('D', "C{client_addr}\0" + "192.0.2.7\0j\0mx.example.test\0");
        Assert.Equal(MilterCommand.Connect, macros.ForCommand);
        Assert.Equal("192.0.2.7", macros.Macros["{client_addr}"]);
        Assert.Equal("mx.example.test", macros.Macros["j"]);

        Assert.Equal(new ConnectRequest("client.test", '4', 40000, "192.0.2.7"), Parse('C', "client.test\0" + "4\u009c\u0040" + "192.0.2.7\0"));
        Assert.Equal(new ConnectRequest("unknown", 'U', 0, ""), Parse('C', "unknown\0U"));

        var mail = (MailRequest)Parse('M', "<alice@sender.test>\0SIZE=1024\0BODY=8BITMIME\0");
        Assert.Equal("<alice@sender.test>", mail.Sender);
        Assert.Equal(["SIZE=1024", "BODY=8BITMIME"], mail.Parameters);
        var rcpt = (RcptRequest)Parse('R', "<bob@example.test>\0");
        Assert.Equal("<bob@example.test>", rcpt.Recipient);
        Assert.Empty(rcpt.Parameters);
        Assert.Equal(new HeaderRequest("Subject", " hello\n\tworld"), Parse('L', "Subject\0 hello\n\tworld\0"));
        Assert.Equal("line\r\n", Encoding.ASCII.GetString(((BodyRequest)Parse('B', "line\r\n")).Chunk.Span));
        Assert.IsType<EndOfBodyRequest>(Parse('E', ""));
        Assert.IsType<AbortRequest>(Parse('A', ""));
        Assert.Equal(new QuitRequest(false), Parse('Q', ""));
        Assert.Equal(new QuitRequest(true), Parse('K', ""));
    }

    [Fact]
    public void An_smtputf8_address_arrives_as_utf8_and_invalid_utf8_byte_for_byte()
    {
        var utf8 = MilterFrame.Write((byte)'R', Encoding.UTF8.GetBytes("<jürgen@example.test>\0"));
        var buffer = new ReadOnlySequence<byte>(utf8);
        MilterFrame.TryRead(ref buffer, MilterFrame.DefaultMaxPacket, out var packet);
        Assert.Equal("<jürgen@example.test>", ((RcptRequest)MilterRequest.Parse(packet)).Recipient);

        Assert.Equal("Subject", ((HeaderRequest)Parse('L', "Subject\0caf\u00e9\0")).Name);
        Assert.Equal("caf\u00e9", ((HeaderRequest)Parse('L', "Subject\0caf\u00e9\0")).Value);
    }

    [Theory]
    [InlineData('H', "no terminator")]
    [InlineData('L', "Subject\0no terminator")]
    [InlineData('C', "host\0")]
    [InlineData('C', "host\0" + "4\u0001")]
    [InlineData('D', "Cname\0")]
    [InlineData('M', "")]
    [InlineData('O', "short")]
    [InlineData('Z', "")]
    public void A_malformed_command_is_a_protocol_error_never_a_crash(char code, string payload)
    {
        Assert.Throws<MilterProtocolException>(() => Parse(code, payload));
    }

    [Fact]
    public void Replies_are_written_byte_for_byte()
    {
        Assert.Equal(new byte[] { 0, 0, 0, 1, (byte)'c' }, MilterReplies.Continue);
        Assert.Equal(Frame('y', "550 5.7.1 Executable attachments are not accepted (100%% sure)\0"),
            MilterReplies.ReplyCode(new Reply(550, "5.7.1", "Executable attachments are not accepted (100% sure)")));
        Assert.Equal(Frame('y', "451 4.3.0 Try  again\0"), MilterReplies.ReplyCode(new Reply(451, "4.3.0", "Try\r\nagain")));
        // Postfix refuses a reply whose fifth character is a digit of another class (and then fails the whole
        // session with milter_default_action): the enhanced code always goes out, in the reply's class.
        Assert.Equal(Frame('y', "451 4.7.1 Later\0"), MilterReplies.ReplyCode(new Reply(451, "5.7.1", "Later")));
        Assert.Equal(Frame('y', "550 5.0.0 4 recipients is too many\0"), MilterReplies.ReplyCode(new Reply(550, "", "4 recipients is too many")));
        Assert.Throws<ArgumentOutOfRangeException>(() => MilterReplies.ReplyCode(new Reply(250, "2.0.0", "Ok")));

        Assert.Equal(Frame('h', "X-Gateway-Score\0 3.5\0"), MilterReplies.AddHeader("X-Gateway-Score", " 3.5"));
        Assert.Equal(Frame('i', "\0\0\0\0Authentication-Results\0 mx; spf=pass\n\tdkim=none\0"),
            MilterReplies.InsertHeader(0, "Authentication-Results", " mx; spf=pass\r\n\tdkim=none"));
        Assert.Equal(Frame('m', "\0\0\0\u0002Authentication-Results\0\0"), MilterReplies.ChangeHeader(2, "Authentication-Results", ""));
        Assert.Equal(Frame('q', "dmarc: quarantine policy\0"), MilterReplies.Quarantine("dmarc: quarantine policy"));
    }

    [Fact]
    public void Negotiation_asks_only_for_what_the_pipeline_needs_and_the_mta_offers()
    {
        var everything = new OptionNegotiationRequest(6, (MilterActions)0x1ff, (MilterSteps)0x3fffffff);

        var (actions, steps) = MilterNegotiation.Negotiate(everything, new MilterNeeds(false, false, true, false, NeedsMessage: false));
        Assert.Equal(MilterActions.AddHeaders | MilterActions.ChangeHeaders | MilterActions.Quarantine | MilterActions.SetMacroList, actions);
        Assert.True(steps.HasFlag(MilterSteps.NoHeaders | MilterSteps.NoBody | MilterSteps.NoReplyConnect | MilterSteps.NoReplyRcpt));
        Assert.False(steps.HasFlag(MilterSteps.NoReplyMail)); // a MAIL filter may refuse: the MTA waits for us
        Assert.False(steps.HasFlag(MilterSteps.NoMail) || steps.HasFlag(MilterSteps.NoRcpt)); // the envelope is always needed

        var (_, withMessage) = MilterNegotiation.Negotiate(everything, new MilterNeeds(true, true, true, true, NeedsMessage: true));
        Assert.False(withMessage.HasFlag(MilterSteps.NoHeaders) || withMessage.HasFlag(MilterSteps.NoBody));
        Assert.True(withMessage.HasFlag(MilterSteps.HeaderLeadingSpace | MilterSteps.NoReplyHeader | MilterSteps.NoReplyBody));

        var old = new OptionNegotiationRequest(2, MilterActions.AddHeaders, MilterSteps.NoConnect | MilterSteps.NoHelo);
        Assert.Equal((MilterActions.AddHeaders, MilterSteps.None), MilterNegotiation.Negotiate(old, new MilterNeeds(true, true, true, true, true)));
        Assert.Throws<MilterProtocolException>(() => MilterNegotiation.Negotiate(old with { Version = 1 }, new MilterNeeds(true, true, true, true, true)));
        Assert.Equal(2u, MilterNegotiation.VersionFor(old));
        Assert.Equal(6u, MilterNegotiation.VersionFor(everything with { Version = 7 }));

        var reply = MilterReplies.OptionNegotiation(6, actions, steps, new Dictionary<MacroStage, string> { [MacroStage.Connect] = "j" });
        Assert.Equal(4 + 1 + 12 + 4 + 2, reply.Length);
        Assert.Equal((byte)'O', reply[4]);
    }
}
