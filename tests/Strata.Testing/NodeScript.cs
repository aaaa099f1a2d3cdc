namespace Strata.Testing;

/// <summary>Runs a Node.js script of a test folder that holds a <c>package.json</c> and <c>package-lock.json</c> (a
/// client someone else wrote, e.g. the CloudEvents JavaScript SDK), installing its packages first with <c>npm ci</c>.
/// Null when Node.js is not installed (under <c>CI=true</c>: an exception).</summary>
public sealed class NodeScript
{
    public const string InstallHint = "Node.js and npm are not installed (apt-get install nodejs npm)";

    private static readonly SemaphoreSlim Installing = new(1, 1);
    private readonly string _folder;
    private readonly string _node;

    private NodeScript(string folder, string node)
    {
        _folder = folder;
        _node = node;
    }

    /// <param name="folder">Relative to the repository root.</param>
    public static async Task<NodeScript?> PrepareAsync(string folder)
    {
        if (Find("node") is not { } node || Find("npm") is not { } npm)
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException(InstallHint + " (CI=true: the tests that need it must run)");
            }
            return null;
        }
        var path = Path.Combine(StrataExecutable.RepositoryRoot, folder);
        await Installing.WaitAsync();
        try
        {
            var installed = Path.Combine(path, "node_modules", ".package-lock.json");
            if (!File.Exists(installed) || File.GetLastWriteTimeUtc(installed) < File.GetLastWriteTimeUtc(Path.Combine(path, "package-lock.json")))
            {
                var (exit, output) = await RunAsync(npm, ["ci", "--no-audit", "--no-fund"], path, new Dictionary<string, string>(), TimeSpan.FromMinutes(5));
                if (exit != 0)
                {
                    throw new InvalidOperationException($"npm ci in {folder} failed ({exit}): {output}");
                }
            }
        }
        finally
        {
            Installing.Release();
        }
        return new NodeScript(path, node);
    }

    /// <summary>Runs <paramref name="script"/> with <paramref name="environment"/>; its exit code and output (stdout, then stderr).</summary>
    public Task<(int Exit, string Output)> RunAsync(string script, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, params string[] arguments) =>
        RunAsync(_node, [script, .. arguments], _folder, environment, timeout);

    private static Task<(int Exit, string Output)> RunAsync(string file, string[] arguments, string directory, IReadOnlyDictionary<string, string> environment, TimeSpan timeout) =>
        ChildProcess.RunAsync(file, arguments, timeout, directory, environment);

    private static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Append("/usr/bin").Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}
