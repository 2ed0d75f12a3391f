// The types of Gateway.Smtp moved to Gateway.Core, Gateway.Session and Gateway.Transports.Smtp. The namespace is kept
// declared, empty, so that files written against the former layout (a `using Gateway.Smtp;` line) still compile while
// the branches that were started before the move are merged; remove it afterwards.
namespace Gateway.Smtp
{
}
