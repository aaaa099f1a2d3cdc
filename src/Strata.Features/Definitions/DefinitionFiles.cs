using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Strata.Features.Definitions;

/// <summary>One definitions file as sent or read from disk: its name (for error messages) and its text.</summary>
public sealed record DefinitionFile(string Name, string Content);

/// <summary>Reads definitions files (YAML, or JSON, which YAML contains) into JSON trees. YAML scalars keep YAML's
/// meaning: an unquoted <c>12</c> is a number, <c>true</c> a boolean, <c>~</c>/<c>null</c> null, a quoted one a string.
/// Anchors and aliases are refused (no billion laughs); a file may hold several documents (<c>---</c>).</summary>
public static class DefinitionFiles
{
    /// <summary>Files larger than this are refused (a repository of hundreds of views is a few hundred kB).</summary>
    public const int MaxFileBytes = 4 << 20;

    /// <summary>Extensions read from a repository folder.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".yaml", ".yml", ".json"];

    /// <summary>The files of a repository: one file, or every <see cref="Extensions"/> file under a folder (sorted by
    /// relative path, hidden folders skipped).</summary>
    public static IReadOnlyList<DefinitionFile> Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (File.Exists(path))
        {
            return [new DefinitionFile(Path.GetFileName(path), ReadText(path))];
        }
        if (!Directory.Exists(path))
        {
            throw new FileNotFoundException($"no definitions file or folder at {path}", path);
        }
        return [.. Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Select(f => Path.GetRelativePath(path, f).Replace('\\', '/'))
            .Where(f => !f.Split('/').Any(part => part.StartsWith('.')))
            .Order(StringComparer.Ordinal)
            .Select(f => new DefinitionFile(f, ReadText(Path.Combine(path, f))))];
    }

    private static string ReadText(string file) =>
        new FileInfo(file).Length > MaxFileBytes ? throw new InvalidDataException($"{file} is larger than {MaxFileBytes >> 20} MB") : File.ReadAllText(file);

    /// <summary>The documents of one file as JSON trees; a syntax error is a <see cref="DefinitionError"/> naming the
    /// line and column.</summary>
    public static IReadOnlyList<JsonNode?> Parse(DefinitionFile file, List<DefinitionError> errors)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(errors);
        if (file.Content.Length > MaxFileBytes)
        {
            errors.Add(new DefinitionError(file.Name, null, null, $"is larger than {MaxFileBytes >> 20} MB"));
            return [];
        }
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(file.Content));
            return [.. stream.Documents.Select(d => ToJson(d.RootNode, 0, new HashSet<YamlNode>(ReferenceEqualityComparer.Instance)))];
        }
        catch (YamlException e)
        {
            errors.Add(new DefinitionError(file.Name, null, null,
                string.Create(CultureInfo.InvariantCulture, $"is not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}")));
            return [];
        }
    }

    private const int MaxDepth = 32;

    private static JsonNode? ToJson(YamlNode node, int depth, HashSet<YamlNode> seen)
    {
        // An alias is the anchored node met again: refused, so a file cannot expand into more nodes than it has.
        if (!seen.Add(node))
        {
            throw new YamlException(node.Start, node.End, "anchors and aliases are not used in definitions");
        }
        if (depth > MaxDepth)
        {
            throw new YamlException(node.Start, node.End, $"nested deeper than {MaxDepth}");
        }
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (key, value) in map.Children)
                {
                    var name = key is YamlScalarNode { Value: { } k } ? k : throw new YamlException(key.Start, key.End, "a key must be a plain string");
                    if (obj.ContainsKey(name))
                    {
                        throw new YamlException(key.Start, key.End, $"key '{name}' appears twice");
                    }
                    obj[name] = ToJson(value, depth + 1, seen);
                }
                return obj;
            case YamlSequenceNode list:
                var array = new JsonArray();
                foreach (var item in list.Children)
                {
                    array.Add(ToJson(item, depth + 1, seen));
                }
                return array;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new YamlException(node.Start, node.End, "unsupported YAML node");
        }
    }

    /// <summary>YAML 1.2 core schema: plain scalars may be null, booleans or numbers; quoted ones are strings.</summary>
    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? string.Empty;
        if (scalar.Style is not (YamlDotNet.Core.ScalarStyle.Plain or YamlDotNet.Core.ScalarStyle.Any))
        {
            return JsonValue.Create(text);
        }
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }
        if (text.Length > 0 && (char.IsAsciiDigit(text[0]) || text[0] is '-' or '+' or '.')
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            return JsonValue.Create(number);
        }
        return JsonValue.Create(text);
    }

    /// <summary>JSON text of a tree, for error messages.</summary>
    internal static string Show(JsonNode? node) => node?.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) ?? "null";
}
