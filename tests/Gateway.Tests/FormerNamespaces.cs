// Gateway.Smtp's types moved (see src/Gateway/Core/FormerNamespaces.cs): the namespace stays declared, empty, so that
// test files written against the former layout still compile while branches are merged; remove it afterwards.
namespace Gateway.Smtp
{
}
