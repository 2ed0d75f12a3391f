using System.Text;
using Gateway.Mime;
using Gateway.Tests.Support;

namespace Gateway.Tests.Mime;

public class FileTypesTests
{
    [Fact]
    public void A_PE_file_is_an_executable_by_its_PE_header()
    {
        Assert.Equal("exe", FileTypes.Sniff(TestFiles.WindowsExecutable()));
        Assert.Equal("exe", FileTypes.Sniff(TestFiles.WindowsExecutable(peOffset: 0x40)));
        Assert.Equal("exe", FileTypes.Sniff(TestFiles.WindowsExecutable(peOffset: 0xF00)));
    }

    [Theory]
    [InlineData("MZ")]
    [InlineData("MZ\n")]
    [InlineData("MZ is the postal abbreviation nobody uses; these are the minutes of the meeting on the budget.\n")]
    [InlineData("MZ-Werkstatt Rechnung Nr. 4711\nPositionen: Bremsbelaege, Oelwechsel, Inspektion\n")]
    public void A_text_beginning_with_MZ_is_not_an_executable(string text)
    {
        Assert.NotEqual("exe", FileTypes.Sniff(Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void MZ_without_PE_at_the_named_offset_or_with_the_offset_out_of_bounds_is_not_an_executable()
    {
        var noSignature = TestFiles.WindowsExecutable();
        noSignature[0x80] = (byte)'X';
        Assert.NotEqual("exe", FileTypes.Sniff(noSignature));

        // e_lfanew past the end of a short file: there is no PE header.
        var pastTheEnd = TestFiles.WindowsExecutable(peOffset: 0x80);
        Assert.NotEqual("exe", FileTypes.Sniff(pastTheEnd.AsSpan(0, 0x70)));

        // e_lfanew beyond 1 MB is not believed, even when the head read is full.
        var far = new byte[FileTypes.SniffLength];
        "MZ"u8.CopyTo(far);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(far.AsSpan(0x3C), 0x2000_0000);
        Assert.NotEqual("exe", FileTypes.Sniff(far));
    }

    [Fact]
    public void A_PE_header_named_past_the_sniffed_head_but_within_a_megabyte_counts_as_an_executable()
    {
        // A full head cannot show it; Windows would still load the file, so it is not passed as harmless.
        var file = TestFiles.WindowsExecutable(peOffset: 0x10000);
        Assert.Equal("exe", FileTypes.Sniff(file.AsSpan(0, FileTypes.SniffLength)));
    }

    [Theory]
    [InlineData("payload.tar", "tar")]
    [InlineData("payload.tar.gz", "gzip")]
    [InlineData("payload.tar.bz2", "bzip2")]
    [InlineData("payload.tar.xz", "xz")]
    [InlineData("payload.7z", "7z")]
    [InlineData("payload.rar", "rar")]
    public void Archive_formats_are_recognised(string fixture, string type)
    {
        var bytes = File.ReadAllBytes(Path.Combine(RepoRoot.Find(), "tests", "Gateway.Tests", "TestData", "archives", fixture));
        Assert.Equal(type, FileTypes.Sniff(bytes.AsSpan(0, Math.Min(bytes.Length, FileTypes.SniffLength))));
    }
}
