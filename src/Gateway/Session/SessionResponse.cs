namespace Gateway.Session;

/// <summary>What the transport does after sending a reply.</summary>
public enum SessionNext : byte
{
    /// <summary>Read the next command.</summary>
    Command,

    /// <summary>Close the connection.</summary>
    Close,

    /// <summary>Read message data up to the end-of-data line, then call <see cref="SessionEngine.EndOfMessageAsync"/>.</summary>
    Data,

    /// <summary>Read <see cref="SessionResponse.ChunkSize"/> octets of a BDAT chunk, then call <see cref="SessionEngine.ChunkAsync"/>.</summary>
    Chunk,

    /// <summary>Start TLS, then call <see cref="SessionEngine.TlsStarted"/>.</summary>
    StartTls,
}

/// <summary>The engine's answer to one command: the reply (or, for EHLO, its lines) and what comes next.</summary>
public readonly record struct SessionResponse(Reply? Reply, SessionNext Next = SessionNext.Command, string? Lines = null)
{
    /// <summary>For <see cref="SessionNext.Chunk"/>: the chunk's declared size.</summary>
    public long ChunkSize { get; init; }

    /// <summary>For <see cref="SessionNext.Chunk"/>: BDAT ... LAST.</summary>
    public bool LastChunk { get; init; }

    /// <summary>For <see cref="SessionNext.Chunk"/>: the transaction's first chunk (a new message starts).</summary>
    public bool FirstChunk { get; init; }

    public static SessionResponse Say(Reply reply) => new(reply);

    public static SessionResponse Closing(Reply reply) => new(reply, SessionNext.Close);
}
