namespace Strata.Testing;

/// <summary>Waits for a condition with a deadline, for effects that happen in the background (a model swap, a restart).</summary>
public static class Eventually
{
    public static async Task<T> ValueAsync<T>(Func<Task<T>> probe, Func<T, bool> until, TimeSpan timeout, string what)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(until);
        var deadline = DateTime.UtcNow + timeout;
        T last;
        Exception? error = null;
        do
        {
            try
            {
                last = await probe();
                if (until(last))
                {
                    return last;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                error = e;
            }
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds:F0}s", error);
    }
}
