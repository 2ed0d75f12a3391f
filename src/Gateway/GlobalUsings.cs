// The core types (replies, paths, verdicts, the spooled message) and the session views are used almost everywhere.
global using Gateway.Core;
global using Gateway.Session;
