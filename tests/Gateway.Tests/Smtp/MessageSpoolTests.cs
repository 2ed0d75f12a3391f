
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
}
