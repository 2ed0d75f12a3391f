// The gateway's core types, session, runtime and SMTP transport, which most tests use.
global using Gateway.Core;
global using Gateway.Runtime;
global using Gateway.Session;
global using Gateway.Transports.Smtp;
