using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Strata.Cli.Commands;

namespace Strata.Cli.Supervision;

/// <summary>A listening loopback socket the supervisor binds once and owns for the whole run, handed to every
/// (re)start of one child as an inherited file descriptor -- systemd's socket activation, on one machine.
/// Choosing a free port and letting the child bind it later races with anything else that takes a port meanwhile
/// (another child's pick, the local port of an outbound connection); a bound socket cannot be taken. And while a
/// crashed child restarts, connections wait in the socket's backlog instead of being refused.</summary>
internal sealed partial class InheritableListener : IDisposable
{
    /// <summary>Environment variable naming the inherited descriptor in the child (read and cleared by <c>strata serve</c>).</summary>
    public const string Variable = "STRATA_LISTEN_FD";

    private const int FGetFd = 1;
    private const int FSetFd = 2;
    private const int FdCloExec = 1;

    private readonly Socket _socket;

    private InheritableListener(Socket socket)
    {
        _socket = socket;
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    public int Descriptor => checked((int)_socket.SafeHandle.DangerousGetHandle());

    /// <summary>Binds and listens on 127.0.0.1:<paramref name="port"/> (0: a free port), or on <paramref name="address"/>.</summary>
    /// <exception cref="SocketException">The port is in use (<see cref="SocketError.AddressAlreadyInUse"/>).</exception>
    public static InheritableListener Bind(int port, IPAddress? address = null)
    {
        var socket = new Socket((address ?? IPAddress.Loopback).AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address ?? IPAddress.Loopback, port));
            socket.Listen(512); // Kestrel's default backlog
            return new InheritableListener(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Starts <paramref name="process"/> with this socket inherited and named in its environment. .NET opens
    /// every descriptor close-on-exec; the flag is lifted only for the instant of the fork, so no other child inherits
    /// this socket. Children are started one at a time (the supervisor's start loop, then its monitor).</summary>
    public void Start(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        process.StartInfo.Environment[Variable] = Descriptor.ToString(CultureInfo.InvariantCulture);
        var flags = Fcntl(Descriptor, FGetFd, 0);
        if (flags < 0 || Fcntl(Descriptor, FSetFd, flags & ~FdCloExec) < 0)
        {
            throw new IOException($"fcntl on descriptor {Descriptor} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            process.Start();
        }
        finally
        {
            _ = Fcntl(Descriptor, FSetFd, flags | FdCloExec);
        }
    }

    /// <summary>In the child: the inherited descriptor, if the supervisor passed one; the variable is cleared so that
    /// nothing this process starts believes it was handed the socket too.</summary>
    public static int? TakeInherited()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (value is null)
        {
            return null;
        }
        Environment.SetEnvironmentVariable(Variable, null);
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var fd) && fd > 2
            ? fd
            : throw new StartupException($"{Variable}='{value}' is not a descriptor number above 2");
    }

    public void Dispose() => _socket.Dispose();

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
