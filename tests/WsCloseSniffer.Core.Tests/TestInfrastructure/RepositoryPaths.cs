using System.Reflection;

namespace WsCloseSniffer.Tests.TestInfrastructure;

/// <summary>
/// Where the repository's samples and the shared third-party captures are, whatever folder the
/// build output went to (the test project records its source root at build time).
/// </summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = typeof(RepositoryPaths).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!;

    public static string Samples => Path.Combine(Root, "samples", "pcaps");

    /// <summary>The end-to-end tests' expected report of <see cref="Samples"/>: one row per session the samples hold.</summary>
    public static string SamplesBaselineCsv => Path.Combine(Root, "tests", "WsCloseSniffer.Cli.Tests", "Baselines", "samples.csv");

    /// <summary>../shared/captures/public beside the repository: present on developers' machines and in CI, absent on a user's fresh clone.</summary>
    public static string SharedCaptures => Path.GetFullPath(Path.Combine(Root, "..", "shared", "captures", "public"));

    public static bool HasSharedCaptures => Directory.Exists(SharedCaptures);

    public const string NoSharedCapturesReason =
        "../shared/captures/public is not beside the repository (a fresh clone has no third-party captures); nothing to compare against";
}
