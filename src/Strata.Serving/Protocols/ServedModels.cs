using Microsoft.AspNetCore.Http;
using Strata.Serving.Models;

namespace Strata.Serving.Protocols;

/// <summary>Resolves a protocol request's model name (and optional version) to the loaded model, or the protocol's 404.
/// A model is addressed by its registry name; the version served is the one its alias points at.</summary>
public sealed class ServedModels(ModelHost host)
{
    public IReadOnlyList<string> Names => [host.Options.Model];

    public bool IsKnown(string name) => name == host.Options.Model;

    public LoadedModel Resolve(string name, string? version = null)
    {
        if (!IsKnown(name))
        {
            throw ProtocolException.NotFound($"model '{name}' is not served here (served: {string.Join(", ", Names)})");
        }
        var model = host.Current
            ?? throw new ProtocolException(StatusCodes.Status503ServiceUnavailable, $"model '{name}' has no version loaded yet");
        if (version is not null && version != model.VersionText)
        {
            throw ProtocolException.NotFound($"version '{version}' of model '{name}' is not served (serving version {model.VersionText} as {host.Options.Alias})");
        }
        return model;
    }
}
