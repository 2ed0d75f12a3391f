using Gateway.Tracking;
using Microsoft.Extensions.Logging;

namespace Gateway.Logging;

/// <summary>Writes each finished transaction as the one transaction log line.</summary>
public sealed class TransactionLogSink(ILogger logger) : ITransactionSink
{
    public void Record(TransactionRecord record) => TransactionLog.Write(logger, record);
}
