namespace Strata.Contracts.Errors;

/// <summary>A module this one depends on did not answer usefully. Becomes a 503 problem, never a 500.</summary>
public sealed class DependencyUnavailableException(string dependency, string reason, Exception? inner = null)
    : Exception($"{dependency} is unavailable: {reason}", inner)
{
    public string Dependency { get; } = dependency;
}
