namespace Gateway.Authentication.Dmarc;

/// <summary>A Domain Owner's requested handling (p=, sp=, np=), from the mildest to the strictest.</summary>
public enum DmarcPolicy { None, Quarantine, Reject }

/// <summary>How closely an identifier must match the author domain (adkim=, aspf=).</summary>
public enum AlignmentMode { Relaxed, Strict }
