// The gateway's core types, session, runtime and SMTP transport: most tests drive or assert on them.
global using Gateway.Core;
global using Gateway.Runtime;
global using Gateway.Session;
global using Gateway.Transports.Smtp;
