// Archive-listing benchmark: a message carrying an archive of 100,000 tiny entries (zip, tar, tar.gz), parsed into
// a MessageView the way the rules filter does (the spool on disk, as for any message above 256 KB). Reports the
// median time of 5 runs and the peak growth of the process's resident memory during a run (sampled every
// millisecond on another thread) over the resident memory just before it, with the default limits (the listing
// stops at the 1,001st entry: refused as uninspectable) and with archive_max_entries raised past 100,000 (every
// entry listed: the attachments list is then what grows).
// Not BenchmarkDotNet: peak resident memory is what is measured, and BenchmarkDotNet's diagnosers count allocations.
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Gateway.Mime;
using Gateway.Smtp;

const int Entries = 100_000;
var spoolDir = Directory.CreateTempSubdirectory("archivebench-").FullName;
try
{
    var archives = new (string Name, byte[] Bytes)[] { ("many.zip", Zip()), ("many.tar", Tar()), ("many.tar.gz", Gzip(Tar())) };
    Console.WriteLine($"{Entries:N0} entries of 1 byte each; median of 5 runs; peak RSS growth over the RSS before the run");
    Console.WriteLine($"{"archive",-12} {"size",8} {"limits",-22} {"median",9} {"peak RSS +",11} {"allocated",10}  outcome");
    foreach (var (name, bytes) in archives)
    {
        using var spool = new MessageSpool(tempDirectory: spoolDir);
        spool.Write(Message(name, bytes));
        foreach (var (label, limits) in new[] { ("default (1,000)", MimeLimits.Default), ("entries 200,000", MimeLimits.Default with { MaxArchiveEntries = 200_000 }) })
        {
            MessageView.Parse(spool, limits); // warm-up: JIT, first touches
            var times = new List<double>();
            long peak = 0, allocated = 0;
            var outcome = "";
            for (var run = 0; run < 5; run++)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                var before = Environment.WorkingSet;
                var max = before;
                using var stop = new CancellationTokenSource();
                var sampler = new Thread(() =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        max = Math.Max(max, Environment.WorkingSet);
                        Thread.Sleep(1);
                    }
                }) { IsBackground = true };
                sampler.Start();
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                var started = Stopwatch.GetTimestamp();
                var view = MessageView.Parse(spool, limits);
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
                max = Math.Max(max, Environment.WorkingSet);
                stop.Cancel();
                sampler.Join();
                times.Add(elapsed);
                peak = Math.Max(peak, max - before);
                outcome = view.Violations.Count > 0 ? "refused: " + view.Violations[0] : $"{view.Attachments.Count:N0} attachments listed";
                GC.KeepAlive(view);
            }
            times.Sort();
            Console.WriteLine($"{name,-12} {bytes.Length / 1024.0 / 1024,6:0.0}MB {label,-22} {times[2],7:0} ms {peak / 1024.0 / 1024,8:0.0} MB {allocated / 1024.0 / 1024,7:0} MB  {outcome}");
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
