namespace Strata.Testing;

/// <summary>The repository's root folder (the one holding <c>Strata.slnx</c>), found from the test binaries upward.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Strata.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("Strata.slnx not found above " + AppContext.BaseDirectory);
    }
}
