using System.Diagnostics;
using System.Reflection;

namespace Strata.Cli.Supervision;

/// <summary>How to start another <c>strata</c> process from this one: the apphost directly, or
/// <c>dotnet strata.dll</c> when this process was itself started through the <c>dotnet</c> muxer.</summary>
internal static class SelfLauncher
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("cannot locate the running executable");
        var info = new ProcessStartInfo(processPath) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            info.ArgumentList.Add(Assembly.GetEntryAssembly()?.Location is { Length: > 0 } dll && dll.EndsWith("strata.dll", StringComparison.Ordinal)
                ? dll
                : Path.Combine(AppContext.BaseDirectory, "strata.dll"));
        }
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        return info;
    }
}
