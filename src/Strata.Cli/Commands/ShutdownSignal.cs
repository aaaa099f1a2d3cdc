using System.Runtime.InteropServices;

namespace Strata.Cli.Commands;

/// <summary>Ctrl-C (SIGINT) and SIGTERM become a cancellation the command finishes on its own terms: the supervisor
/// must outlive the signal long enough to stop every child, which a fixed termination timeout would cut short.</summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration[] _registrations;

    public ShutdownSignal()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        ];
    }

    public CancellationToken Token => _cts.Token;

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        _cts.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        _cts.Dispose();
    }
}
