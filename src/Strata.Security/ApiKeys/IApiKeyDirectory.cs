namespace Strata.Security.ApiKeys;

/// <summary>Where a process looks up the key a request presents: the store itself in the process hosting the Security
/// module, a snapshot refreshed from it everywhere else.</summary>
public interface IApiKeyDirectory
{
    /// <summary>False until the first snapshot arrived (a process that cannot check keys yet is not ready).</summary>
    bool IsLoaded { get; }

    ApiKeyRecord? Find(string id);
}
