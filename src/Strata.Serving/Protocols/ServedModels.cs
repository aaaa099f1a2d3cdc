using System.Globalization;
using Microsoft.AspNetCore.Http;
using Strata.Serving.Models;

namespace Strata.Serving.Protocols;

/// <summary>Resolves a protocol request's model name and optional version to a loaded model, or the protocol's 404.
/// A model is addressed by its registry name (answered by the default alias); a version by number (loaded on first use
/// when no alias points at it) or by alias name (<c>/v2/models/fraud/versions/challenger</c>).</summary>
public sealed class ServedModels(ModelHost host)
{
    public IReadOnlyList<string> Names => host.Names;

    /// <summary>The traffic policy in force for a model addressed without a version, or null (one lookup: a model served
    /// on first use gets its policy with its aliases, from its next request on).</summary>
    public Traffic.RoutedPolicy? PolicyOf(string name) => host.PolicyOf(name);

    public async ValueTask<ServableModel> ResolveAsync(string name, string? version, CancellationToken cancellationToken)
    {
        if (!await host.EnsureServedAsync(name, cancellationToken))
        {
            throw ProtocolException.NotFound($"model '{name}' is not served here (served: {string.Join(", ", Names)})");
        }
        if (version is null)
        {
            return host.Get(name, host.Options.Alias)
                ?? (host.FailureOf(name, host.Options.Alias) is { } failure
                    // The version the alias points at cannot be loaded: the client's request cannot succeed until the alias moves.
                    ? throw new ProtocolException(StatusCodes.Status409Conflict, $"model '{name}' v{failure.Version} ({host.Options.Alias}) is not served: {failure.Reason}")
                    : throw new ProtocolException(StatusCodes.Status503ServiceUnavailable, $"model '{name}' has no version loaded as {host.Options.Alias} yet"));
        }
        if (int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0)
        {
            ServableModel? loaded;
            try
            {
                loaded = await host.GetVersionAsync(name, number, cancellationToken);
            }
            catch (InvalidDataException e)
            {
                throw new ProtocolException(StatusCodes.Status503ServiceUnavailable, $"version {number} of model '{name}' cannot be loaded: {e.Message}");
            }
            return loaded ?? throw ProtocolException.NotFound($"version '{version}' of model '{name}' is not served ({Describe(name)})");
        }
        return host.Get(name, version) ?? throw ProtocolException.NotFound($"version '{version}' of model '{name}' is not served ({Describe(name)})");
    }

    private string Describe(string name)
    {
        var aliases = host.AliasesOf(name);
        return aliases.Count == 0
            ? "no version is loaded"
            : "serving " + string.Join(", ", aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key} = v{a.Value.VersionText}"));
    }
}
