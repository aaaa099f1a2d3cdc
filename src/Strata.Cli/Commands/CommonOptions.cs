using System.CommandLine;
using System.Text.Json;
using Strata.Contracts;
using Strata.Contracts.Errors;
using Strata.Contracts.Security;

namespace Strata.Cli.Commands;

/// <summary>Options every client command shares: where Strata is, and JSON output for machines.</summary>
public static class CommonOptions
{
    public static Option<Uri> Url(string what) => new("--url", "-u")
    {
        Description = $"Base URL of Strata ({what}); default: $STRATA_URL, else the address `strata up` recorded in ./.strata, else http://127.0.0.1:5000/",
        DefaultValueFactory = _ => DefaultUrl(Environment.GetEnvironmentVariable("STRATA_URL"), Path.Combine(DataDirectory.Default, DataDirectory.AddressFile)),
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : string.Empty;
            if (Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                return uri;
            }
            r.AddError($"--url must be an http(s) URL, got '{text}'");
            return null;
        },
    };

    /// <summary>Where the client commands look for Strata without <c>--url</c> (issue 24: they defaulted to a port nothing
    /// listened on): <c>STRATA_URL</c>; the address a <c>strata up</c> in this folder recorded; <c>strata up</c>'s default port.</summary>
    public static Uri DefaultUrl(string? environment, string addressFile)
    {
        foreach (var candidate in new[] { environment, File.Exists(addressFile) ? SafeRead(addressFile) : null })
        {
            if (!string.IsNullOrWhiteSpace(candidate) && Uri.TryCreate(candidate.Trim().TrimEnd('/') + "/", UriKind.Absolute, out var uri)
                && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                return uri;
            }
        }
        return new Uri("http://127.0.0.1:5000/");
    }

    private static string? SafeRead(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static Option<bool> Json() => new("--json") { Description = "Print JSON instead of a table" };

    /// <summary>Tables show the columns that fit the terminal; <c>--wide</c> shows them all (<see cref="FittedTable"/>).</summary>
    public static Option<bool> Wide() => new("--wide") { Description = "Show every column at its full width (lines may be wider than the terminal)" };

    /// <summary>The metrics a table shows first when it has room for a few: the usual headline ones, then the rest by
    /// name; per-feature importances last.</summary>
    public static List<string> OrderMetrics(IEnumerable<string> keys) =>
        [.. keys.Distinct(StringComparer.Ordinal).OrderBy(k => Array.IndexOf(HeadlineMetrics, k) is var i and >= 0 ? i : k.Contains('.', StringComparison.Ordinal) ? 1000 : 100)
            .ThenBy(k => k, StringComparer.Ordinal)];

    private static readonly string[] HeadlineMetrics = ["auc", "accuracy", "f1", "rmse", "r2", "mae", "log_loss", "pr_auc", "precision", "recall"];

    /// <summary>Prints <paramref name="value"/> as JSON (the API's field names) for <c>--json</c>; exit code 0.</summary>
    public static int PrintJson<T>(T value)
    {
        Console.WriteLine(JsonSerializer.Serialize(value, StrataJson.Options));
        return 0;
    }

    /// <summary>Runs a client command against the server at <paramref name="url"/>: a problem answer (bad input, not
    /// found, conflict) or an unreachable server is one line on stderr and exit code 1.</summary>
    public static async Task<int> RunClientAsync(Uri url, TimeSpan timeout, Func<HttpClient, Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        using var http = new HttpClient { BaseAddress = url, Timeout = timeout };
        if (ApiKey(Environment.GetEnvironmentVariable(SecurityRoutes.ApiKeyVariable), Path.Combine(DataDirectory.Default, DataDirectory.ApiKeyFile)) is { } key)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }
        try
        {
            return await action(http);
        }
        catch (Exception e) when (e is InputValidationException or ResourceNotFoundException or ResourceConflictException or DependencyUnavailableException)
        {
            await Console.Error.WriteLineAsync($"strata: {e.Message}");
            return 1;
        }
        catch (AccessDeniedException e)
        {
            await Console.Error.WriteLineAsync(e.Authenticated
                ? $"strata: forbidden: {e.Message}"
                : $"strata: not authenticated: {e.Message}; set {SecurityRoutes.ApiKeyVariable} to a key (strata up prints the first one; 'strata keys create' makes more)");
            return 1;
        }
    }

    /// <summary>The API key the client commands send: <c>STRATA_API_KEY</c>, else the one a fresh <c>strata up</c> in this
    /// folder wrote (<c>.strata/api-key</c>), else none.</summary>
    public static string? ApiKey(string? environment, string keyFile)
    {
        if (!string.IsNullOrWhiteSpace(environment))
        {
            return environment.Trim();
        }
        return File.Exists(keyFile) ? SafeRead(keyFile)?.Trim() is { Length: > 0 } key ? key : null : null;
    }
}
