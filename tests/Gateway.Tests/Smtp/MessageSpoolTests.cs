
namespace Gateway.Tests.Smtp;

public class MessageSpoolTests
{
    [Fact]
    public void Moves_to_a_temporary_file_past_the_threshold_and_deletes_it_on_dispose()
    {
        using var dir = new Support.TempDirectory();
        var data = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        var spool = new MessageSpool(memoryThreshold: 1024, tempDirectory: dir.Path);
        spool.Write(data.AsSpan(0, 1000));
        Assert.False(spool.IsOnDisk);
        spool.Write(data.AsSpan(1000));
        Assert.True(spool.IsOnDisk);
        Assert.Single(Directory.GetFiles(dir.Path));
        using (var read = spool.OpenRead())
        using (var copy = new MemoryStream())
        {
            read.CopyTo(copy);
            Assert.Equal(data, copy.ToArray());
        }
        spool.Dispose();
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Keeps_every_byte_across_many_small_writes_in_memory()
    {
        var data = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray();
        using var spool = new MessageSpool();
        for (var i = 0; i < data.Length; i += 333)
            spool.Write(data.AsSpan(i, Math.Min(333, data.Length - i)));
        Assert.False(spool.IsOnDisk);
        Assert.Equal(data.Length, spool.Length);
        using var read = spool.OpenRead();
        using var copy = new MemoryStream();
        read.CopyTo(copy);
        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public void A_reader_that_outlives_its_spool_keeps_its_bytes_while_other_spools_come_and_go()
    {
        var first = new MessageSpool();
        first.Write(Enumerable.Repeat((byte)'a', 3000).ToArray());
        var late = first.OpenRead(); // a filter still reading after its transaction ended
        first.Dispose();
        Assert.Throws<ObjectDisposedException>(() => first.OpenRead());
        for (var i = 0; i < 50; i++)
        {
            // Buffers of the same size, rented and returned: none of them may be the late reader's.
            using var other = new MessageSpool();
            other.Write(Enumerable.Repeat((byte)'b', 3000).ToArray());
        }
        using var copy = new MemoryStream();
        late.CopyTo(copy);
        Assert.All(copy.ToArray(), b => Assert.Equal((byte)'a', b));
        Assert.Equal(3000, copy.Length);
        late.Dispose();
    }
}
