using System.Runtime.CompilerServices;
using System.Text;

namespace Gateway.Runtime;

/// <summary>
/// Legacy charsets in MIME (ISO-2022-JP, GB2312, Big5, EUC-KR, windows-125x, KOI8-R...) need the code pages
/// provider. It is registered when the assembly loads, so that every command and every host decodes a message the
/// same way: `gateway learn` must read the text that `run`, `explain` and the milter endpoint will score.
/// </summary>
internal static class LegacyCharsets
{
    [ModuleInitializer]
#pragma warning disable CA2255 // the gateway is an application; its own commands and hosts are the only callers
    internal static void Register() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
#pragma warning restore CA2255
}
