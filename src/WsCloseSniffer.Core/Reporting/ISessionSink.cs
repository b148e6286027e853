namespace WsCloseSniffer.Reporting;

/// <summary>Where finished session records go. <see cref="Write"/> is called in session_id order.</summary>
public interface ISessionSink : IDisposable
{
    void Write(SessionRecord record);

    /// <summary>Pushes what was written to the underlying file, so a killed process loses nothing written.</summary>
    void Flush();
}
