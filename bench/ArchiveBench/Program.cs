// Archive-listing benchmark: a message carrying an archive of 100,000 tiny entries (zip, tar, tar.gz, 7z), parsed into
// a MessageView the way the rules filter does (the spool on disk, as for any message above 256 KB). Reports the
// median time of 5 runs and the peak growth of the process's resident memory during the first parse (sampled every
// millisecond on another thread) over the resident memory just before it, with the default limits (the listing
// stops at the 1,001st entry: refused as uninspectable) and with archive_max_entries raised past 100,000 (every
// entry listed: the attachments list is then what grows).
// Each case runs in a process of its own (this program started again with --one), so that a heap grown by one
// case does not hide the growth of the next.
// Not BenchmarkDotNet: peak resident memory is what is measured, and BenchmarkDotNet's diagnosers count allocations.
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Gateway.Mime;
using Gateway.Core;

const int Entries = 100_000;
var cases = new[] { ("default (1,000)", MimeLimits.Default), ("entries 200,000", MimeLimits.Default with { MaxArchiveEntries = 200_000 }) };
if (args is not ["--one", var file, var c])
{
    // The parent writes the messages to files; each case reads its file into a spool in a fresh process, so that
    // no big array built here is resident in the process that is measured.
    var dir = Directory.CreateTempSubdirectory("archivebench-").FullName;
    try
    {
        var archives = new (string Name, Func<byte[]> Make)[] { ("many.zip", Zip), ("many.tar", Tar), ("many.tar.gz", () => Gzip(Tar())), ("many.7z", SevenZip) }
            .Concat(args.Select(path => (Path.GetFileName(path), (Func<byte[]>)(() => File.ReadAllBytes(path))))).ToArray();
        Console.WriteLine($"{Entries:N0} entries of 1 byte each; median of 5 runs; peak RSS growth during the first parse");
        Console.WriteLine($"{"archive",-12} {"message",8} {"limits",-22} {"median",9} {"peak RSS +",11} {"allocated",10}  outcome");
        foreach (var (name, make) in archives)
        {
            var path = Path.Combine(dir, name + ".eml");
            File.WriteAllBytes(path, Message(name, make()));
            for (var j = 0; j < cases.Length; j++)
            {
                using var child = Process.Start(new ProcessStartInfo(Environment.ProcessPath!, ["--one", path, $"{j}"]) { UseShellExecute = false })!;
                child.WaitForExit();
            }
        }
    }
    finally
    {
        Directory.Delete(dir, recursive: true);
    }
    return;
}
var spoolDir = Directory.CreateTempSubdirectory("archivebench-").FullName;
try
{
    {
        var name = Path.GetFileNameWithoutExtension(file);
        using var spool = new MessageSpool(tempDirectory: spoolDir);
        using (var input = File.OpenRead(file))
        {
            var chunk = new byte[64 * 1024];
            int n;
            while ((n = input.Read(chunk)) > 0)
                spool.Write(chunk.AsSpan(0, n));
        }
        var size = new FileInfo(file).Length;
        var (label, limits) = cases[int.Parse(c)];
        {
            // Warm-up that stops at the 10th entry: the same code is compiled without growing the heap. Then the
            // first full parse is measured for memory (the process has not grown a heap for it yet), the five after
            // it for time.
            MessageView.Parse(spool, limits with { MaxArchiveEntries = 10 });
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            var before = Environment.WorkingSet;
            var max = before;
            var sampling = true;
            var sampler = new Thread(() =>
            {
                while (Volatile.Read(ref sampling))
                {
                    max = Math.Max(max, Environment.WorkingSet);
                    Thread.Sleep(1);
                }
            }) { IsBackground = true };
            sampler.Start();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var first = MessageView.Parse(spool, limits);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            max = Math.Max(max, Environment.WorkingSet);
            Volatile.Write(ref sampling, false);
            sampler.Join();
            var peak = max - before;
            var outcome = first.Violations.Count > 0 ? "refused: " + first.Violations[0] : $"{first.Attachments.Count:N0} attachments listed";
            GC.KeepAlive(first);
            var times = new List<double>();
            for (var run = 0; run < 5; run++)
            {
                var started = Stopwatch.GetTimestamp();
                MessageView.Parse(spool, limits);
                times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine($"{name,-12} {size / 1024.0 / 1024,6:0.0}MB {label,-22} {times[2],7:0} ms {peak / 1024.0 / 1024,8:0.0} MB {allocated / 1024.0 / 1024,7:0} MB  {outcome}");
        }
    }
}
finally
{
    Directory.Delete(spoolDir, recursive: true);
}

static byte[] Zip()
{
    using var ms = new MemoryStream();
    using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
    {
        for (var i = 0; i < Entries; i++)
        {
            using var s = zip.CreateEntry($"d{i / 1000}/f{i}.txt", CompressionLevel.NoCompression).Open();
            s.WriteByte((byte)'x');
        }
    }
    return ms.ToArray();
}

static byte[] Tar()
{
    using var ms = new MemoryStream();
    using (var writer = new TarWriter(ms, TarEntryFormat.Ustar, leaveOpen: true))
    {
        for (var i = 0; i < Entries; i++)
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, $"d{i / 1000}/f{i}.txt") { DataStream = new MemoryStream("x"u8.ToArray()) });
    }
    return ms.ToArray();
}

// 7z has no writer in .NET's box: Debian's 7z (p7zip-full) archives 100,000 one-byte files written to a temp dir.
static byte[] SevenZip()
{
    var dir = Directory.CreateTempSubdirectory("archivebench-7z-").FullName;
    try
    {
        for (var i = 0; i < Entries; i++)
        {
            var sub = Path.Combine(dir, "d", $"d{i / 1000}");
            if (i % 1000 == 0)
                Directory.CreateDirectory(sub);
            File.WriteAllBytes(Path.Combine(sub, $"f{i}.txt"), "x"u8.ToArray());
        }
        using var process = Process.Start(new ProcessStartInfo("7z", ["a", "-bd", "-bso0", "-t7z", "many.7z", "d/*"]) { WorkingDirectory = dir })
            ?? throw new InvalidOperationException("7z (apt-get install p7zip-full) is needed for the 7z row");
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"7z failed ({process.ExitCode})");
        return File.ReadAllBytes(Path.Combine(dir, "many.7z"));
    }
    finally
    {
        Directory.Delete(dir, recursive: true);
    }
}

static byte[] Gzip(byte[] data)
{
    using var ms = new MemoryStream();
    using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true))
        gz.Write(data);
    return ms.ToArray();
}

static byte[] Message(string name, byte[] archive)
{
    var text = new StringBuilder("From: a@sender.test\r\nTo: b@example.test\r\nSubject: many\r\nMIME-Version: 1.0\r\n")
        .Append("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n")
        .Append($"--b\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
        .Append(Convert.ToBase64String(archive, Base64FormattingOptions.InsertLineBreaks)).Append("\r\n--b--\r\n");
    return Encoding.ASCII.GetBytes(text.ToString());
}
