using System.Buffers.Binary;

namespace Gateway.Tests.Support;

/// <summary>Small files with the shapes the type sniffer tells apart.</summary>
public static class TestFiles
{
    /// <summary>
    /// The smallest shape a sniffer must call a Windows executable: a DOS header whose e_lfanew names offset
    /// <paramref name="peOffset"/>, where "PE\0\0" and an i386 COFF header stand. Not a runnable program.
    /// </summary>
    public static byte[] WindowsExecutable(int peOffset = 0x80, int length = 0)
    {
        var file = new byte[Math.Max(length, peOffset + 24 + 64)];
        "MZ"u8.CopyTo(file);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(0x3C), (uint)peOffset);
        "PE\0\0"u8.CopyTo(file.AsSpan(peOffset));
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(peOffset + 4), 0x14C);
        return file;
    }
}
