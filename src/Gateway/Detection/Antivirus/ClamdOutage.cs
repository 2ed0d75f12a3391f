using Microsoft.Extensions.Logging;

namespace Gateway.Detection.Antivirus;

/// <summary>
/// One warning when clamd starts failing and one line when it answers again, as the Redis state store does: an
/// outage during a mail flood is two log lines, not one per message.
/// </summary>
internal sealed class ClamdOutage(string filter, ClamdAddress address)
{
    private int _down;

    public bool IsDown => Volatile.Read(ref _down) == 1;

    public void Down(ILogger logger, string why, string onError)
    {
        if (Interlocked.Exchange(ref _down, 1) == 0)
            logger.LogWarning("antivirus {Filter}: clamd at {Clamd} failing: {Error}; messages get on_error ({OnError}) until it answers again",
                filter, address, why, onError);
    }

    public void Up(ILogger logger)
    {
        if (Interlocked.Exchange(ref _down, 0) == 1)
            logger.LogInformation("antivirus {Filter}: clamd at {Clamd} answering again", filter, address);
    }
}
