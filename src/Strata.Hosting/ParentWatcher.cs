using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting;

namespace Strata.Hosting;

/// <summary>A module started by the supervisor exits when the supervisor is gone, even if the supervisor was
/// killed without a chance to stop its children: no orphan processes. The parent is named by <c>STRATA_PARENT_PID</c>.</summary>
public sealed class ParentWatcher(IHostApplicationLifetime lifetime) : BackgroundService
{
    public const string Variable = "STRATA_PARENT_PID";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (!IsAlive(pid))
            {
                await Console.Error.WriteLineAsync($"strata: supervisor {pid} is gone; stopping");
                lifetime.StopApplication();
                return;
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
