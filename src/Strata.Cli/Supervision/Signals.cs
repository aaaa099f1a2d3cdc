using System.Runtime.InteropServices;

namespace Strata.Cli.Supervision;

/// <summary>POSIX signals to child processes: .NET's <c>Process.Kill</c> only sends SIGKILL, and a module deserves
/// a SIGTERM first so it can finish in-flight requests and close its stores.</summary>
internal static partial class Signals
{
    private const int SigTerm = 15;

    public static bool Terminate(int pid) => OperatingSystem.IsWindows() ? false : Kill(pid, SigTerm) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
