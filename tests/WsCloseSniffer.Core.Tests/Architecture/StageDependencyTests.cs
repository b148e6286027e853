using System.Text.RegularExpressions;
using WsCloseSniffer.Tests.TestInfrastructure;

namespace WsCloseSniffer.Tests.Architecture;

/// <summary>
/// Keeps the pipeline flowing one way: each folder of the core project is one stage and one namespace, and a
/// stage uses only the stages before it (docs/architecture.md states the same order; a test checks they agree).
/// </summary>
public sealed partial class StageDependencyTests
{
    /// <summary>The stages of src/WsCloseSniffer.Core in pipeline order: the one place the order is written in code.</summary>
    public static readonly IReadOnlyList<string> StageOrder =
        ["Capture", "Decoding", "Reassembly", "Http", "WebSockets", "Analysis", "Reporting", "Pipeline"];

    private static string CoreDirectory => Path.Combine(RepositoryPaths.Root, "src", "WsCloseSniffer.Core");

    [Fact]
    public void CoreFolders_AreExactlyTheStages()
    {
        var folders = Directory.GetDirectories(CoreDirectory)
            .Select(Path.GetFileName)
            .Where(name => name is not ("bin" or "obj"))
            .Order(StringComparer.Ordinal);
        Assert.Equal(StageOrder.Order(StringComparer.Ordinal), folders);
        Assert.Empty(Directory.GetFiles(CoreDirectory, "*.cs"));
    }

    [Fact]
    public void EveryStage_UsesOnlyEarlierStages_SoThereIsNoCycle()
    {
        var wrong = new List<string>();
        foreach (var (stage, used) in UsesByStage())
        {
            var position = Position(stage);
            foreach (var (other, file) in used)
            {
                if (Position(other) >= position)
                {
                    wrong.Add($"{file} ({stage}) uses {other}, which is not an earlier stage");
                }
            }
        }

        Assert.Empty(wrong);
    }

    [Fact]
    public void EveryFile_DeclaresItsFoldersNamespace()
    {
        var wrong = Directory.GetFiles(CoreDirectory, "*.cs", SearchOption.AllDirectories)
            .Where(IsSource)
            .Where(file => NamespaceOf(File.ReadAllText(file)) != $"WsCloseSniffer.{StageOf(file)}")
            .Select(file => Path.GetRelativePath(CoreDirectory, file))
            .ToList();
        Assert.Empty(wrong);
    }

    [Fact]
    public void ArchitectureDocument_StatesTheSameOrder()
    {
        var document = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "architecture.md"));
        Assert.Contains($"Stage order: {string.Join(" -> ", StageOrder)}", document, StringComparison.Ordinal);
    }

    [Fact]
    public void UsesByStage_ABackwardUse_IsFound()
    {
        // The scan itself must see both forms of a reference, or the rule above could pass on anything.
        Assert.Equal(["Reporting", "Analysis"], Uses("using WsCloseSniffer.Reporting;\nvar x = WsCloseSniffer.Analysis.Outcome.Unfinished;").ToArray());
    }

    private static int Position(string stage)
    {
        var position = StageOrder.ToList().IndexOf(stage);
        Assert.True(position >= 0, $"{stage} is not a stage");
        return position;
    }

    private static IEnumerable<(string Stage, List<(string Other, string File)> Used)> UsesByStage() =>
        Directory.GetFiles(CoreDirectory, "*.cs", SearchOption.AllDirectories)
            .Where(IsSource)
            .GroupBy(StageOf)
            .Select(group => (group.Key, group
                .SelectMany(file => Uses(File.ReadAllText(file))
                    .Where(other => other != group.Key)
                    .Select(other => (other, Path.GetRelativePath(CoreDirectory, file))))
                .ToList()));

    /// <summary>The stages a file refers to: by using directive or by a qualified name.</summary>
    private static IEnumerable<string> Uses(string source) =>
        StageReference().Matches(source).Select(match => match.Groups[1].Value).Distinct(StringComparer.Ordinal);

    private static string StageOf(string file) => Path.GetRelativePath(CoreDirectory, file).Split(Path.DirectorySeparatorChar)[0];

    private static bool IsSource(string file)
    {
        var relative = Path.GetRelativePath(CoreDirectory, file);
        return Path.GetDirectoryName(relative) != string.Empty && StageOf(file) is not ("bin" or "obj");
    }

    private static string? NamespaceOf(string source) => FileScopedNamespace().Match(source) is { Success: true } match ? match.Groups[1].Value : null;

    [GeneratedRegex(@"\bWsCloseSniffer\.([A-Z][A-Za-z]+)\b")]
    private static partial Regex StageReference();

    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex FileScopedNamespace();
}
