namespace Strata.Cli.Commands;

/// <summary>Polls <c>/health/ready</c> (or another path) until it answers 200.</summary>
internal static class Readiness
{
    public static async Task WaitAsync(HttpClient http, TimeSpan timeout, CancellationToken ct, string path = "/health/ready")
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            while (true)
            {
                try
                {
                    using var response = await http.GetAsync(new Uri(path, UriKind.Relative), deadline.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                await Task.Delay(100, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new StartupException($"{http.BaseAddress} did not become ready ({path}) within {timeout.TotalSeconds:F0}s");
        }
    }
}
